// One subscription's ARM events: a resource group in that subscription (the app's resource group name)
// holding its Event Grid system topic, and the topic's right to dead-letter into the app's storage
// account. main.bicep deploys this once per subscription in scope (each firewall policy's subscription
// and clusterSubscriptionIds), so clusters and policies in every one of them produce events.
targetScope = 'subscription'

param resourceGroupName string
param location string
param tags object
param systemTopicName string
@description('Makes the nested deployment names unique per environment (main.bicep resourceToken).')
param deploymentSuffix string

@description('Where the dead-letter container is: the app\'s storage account.')
param storageSubscriptionId string
param storageResourceGroupName string
param storageAccountName string
param deadLetterContainerName string

// In the deployment's own subscription this is the app's resource group, declared again with the same
// properties (main.bicep makes this module wait for it).
resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
  location: location
  tags: tags
}

module topic 'eventgrid.bicep' = {
  name: 'evgt-topic-${deploymentSuffix}'
  scope: rg
  params: {
    systemTopicName: systemTopicName
    tags: tags
  }
}

module deadLetterWriter 'eventgrid-deadletter.bicep' = {
  name: 'evgt-dl-${uniqueString(subscription().id, deploymentSuffix)}'
  scope: resourceGroup(storageSubscriptionId, storageResourceGroupName)
  params: {
    storageAccountName: storageAccountName
    deadLetterContainerName: deadLetterContainerName
    systemTopicId: topic.outputs.id
    systemTopicPrincipalId: topic.outputs.principalId
  }
}

output systemTopicId string = topic.outputs.id
