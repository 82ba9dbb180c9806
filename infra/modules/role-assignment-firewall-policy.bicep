// The firewall writer role assigned on one firewall policy (firewallRoleScope = 'policy'): the
// narrowest scope, covering the policy's rule collection groups.
targetScope = 'resourceGroup'

param policyName string
param principalId string
param roleDefinitionGuid string
param assignmentDescription string

resource policy 'Microsoft.Network/firewallPolicies@2024-05-01' existing = {
  name: policyName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(policy.id, principalId, roleDefinitionGuid)
  scope: policy
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionGuid)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: assignmentDescription
  }
}
