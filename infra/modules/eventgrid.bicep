// The Event Grid system topic of the subscription's ARM events (cluster, agent pool and rule collection
// group writes and deletes among them). Its event subscription to the armEvents function is created by
// the postdeploy hook (infra/hooks/postdeploy.*) once the function's Event Grid system key exists; the
// topic's own identity writes undeliverable events to the dead-letter container.
// Azure allows one system topic per source: if this subscription already has one of type
// Microsoft.Resources.Subscriptions, see infra/README.md.
param systemTopicName string
param tags object
param storageAccountName string
param deadLetterContainerName string

var storageBlobDataContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: systemTopicName
  // Subscription-level system topics are global.
  location: 'global'
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName

  resource blobServices 'blobServices' existing = {
    name: 'default'

    resource deadLetter 'containers' existing = {
      name: deadLetterContainerName
    }
  }
}

// Dead-lettering with the topic's identity: write access to the dead-letter container, nothing else.
resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobServices::deadLetter.id, systemTopic.id, storageBlobDataContributorRoleId)
  scope: storage::blobServices::deadLetter
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributorRoleId)
    principalId: systemTopic.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'aks-egress-guard: Event Grid dead letters'
  }
}

output systemTopicName string = systemTopic.name
