// An existing Event Grid topic for approval notifications: the app may publish to it (EventGrid Data
// Sender) and nothing more; its endpoint becomes AKS_EGRESS_NOTIFICATION_TOPIC_ENDPOINT.
param topicName string
param senderPrincipalId string
@description('EventGrid Data Sender.')
param roleDefinitionGuid string

resource topic 'Microsoft.EventGrid/topics@2022-06-15' existing = {
  name: topicName
}

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, senderPrincipalId, roleDefinitionGuid)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionGuid)
    principalId: senderPrincipalId
    principalType: 'ServicePrincipal'
    description: 'aks-egress-guard: publish approval requests'
  }
}

output endpoint string = topic.properties.endpoint
