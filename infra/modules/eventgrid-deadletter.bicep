// Dead-lettering with a system topic's identity: write access to the dead-letter container of the app's
// storage account, nothing else. Deployed to the storage account's resource group, whichever
// subscription the topic is in.
param storageAccountName string
param deadLetterContainerName string
@description('Resource ID of the system topic (names the assignment, as before the topics moved to their own module).')
param systemTopicId string
param systemTopicPrincipalId string

var storageBlobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName

  resource blobServices 'blobServices' existing = {
    name: 'default'

    resource deadLetter 'containers' existing = {
      name: deadLetterContainerName
    }
  }
}

resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobServices::deadLetter.id, systemTopicId, storageBlobDataContributorRoleId)
  scope: storage::blobServices::deadLetter
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributorRoleId)
    principalId: systemTopicPrincipalId
    principalType: 'ServicePrincipal'
    description: 'aks-egress-guard: Event Grid dead letters'
  }
}
