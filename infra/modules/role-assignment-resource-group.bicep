// One role assignment to the app's identity on a resource group (the firewall writer role on a policy's
// resource group, or Reader where clusters and subnets live).
targetScope = 'resourceGroup'

param principalId string
param roleDefinitionGuid string
param assignmentDescription string

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, roleDefinitionGuid)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: assignmentDescription
  }
}
