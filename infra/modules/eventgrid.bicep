// The Event Grid system topic of one subscription's ARM events (cluster, agent pool and rule collection
// group writes and deletes among them), in a resource group of that subscription. Its event subscription
// to the armEvents function is created by the postdeploy hook (infra/hooks/postdeploy.*) once the
// function's Event Grid system key exists; the topic's own identity writes undeliverable events to the
// dead-letter container (eventgrid-deadletter.bicep grants it that).
// Azure allows one system topic per source: if the subscription already has one of type
// Microsoft.Resources.Subscriptions, see infra/README.md.
param systemTopicName string
param tags object

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: systemTopicName
  // Subscription-level system topics are global.
  location: 'global'
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    // The subscription of the resource group this module is deployed to.
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

output systemTopicName string = systemTopic.name
output id string = systemTopic.id
output principalId string = systemTopic.identity.principalId
