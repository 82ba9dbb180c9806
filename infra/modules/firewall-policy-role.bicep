// The custom role with exactly the firewall policy actions the app uses (azure/permissions.ts
// FIREWALL_POLICY_ACTIONS; a test checks they are equal). No wildcard, no other resource type.
targetScope = 'subscription'

param roleName string
param roleGuid string
@description('Resource groups (or policies) the role may be assigned on.')
param assignableScopes array

resource role 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: roleGuid
  properties: {
    roleName: roleName
    description: 'Read an Azure Firewall Policy and read and write its rule collection groups: what aks-egress-guard does.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Network/firewallPolicies/read'
          'Microsoft.Network/firewallPolicies/ruleCollectionGroups/read'
          'Microsoft.Network/firewallPolicies/ruleCollectionGroups/write'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

output roleGuid string = role.name
output id string = role.id
