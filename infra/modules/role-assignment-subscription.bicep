// One role assignment to the app's identity on a subscription (Reader where clusters and subnets live).
targetScope = 'subscription'

param principalId string
param roleDefinitionGuid string
param assignmentDescription string

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleDefinitionGuid)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: assignmentDescription
  }
}
