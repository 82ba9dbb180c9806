// Holds the approval-link signing key; the Function App reads it through a Key Vault reference
// (@Microsoft.KeyVault(SecretUri=...)) with its user-assigned identity.
param name string
param location string
param tags object
@secure()
param signingKey string
@description('The app\'s identity: Key Vault Secrets User on the signing key only.')
param readerPrincipalId string

var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }

  resource signingKeySecret 'secrets' = {
    name: 'approval-signing-key'
    properties: {
      value: signingKey
      contentType: 'text/plain'
    }
  }
}

resource secretReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault::signingKeySecret.id, readerPrincipalId, keyVaultSecretsUserRoleId)
  scope: vault::signingKeySecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: readerPrincipalId
    principalType: 'ServicePrincipal'
    description: 'aks-egress-guard: read the approval signing key'
  }
}

output name string = vault.name
@description('Without a version: the app always gets the current value.')
output signingKeySecretUri string = vault::signingKeySecret.properties.secretUri
