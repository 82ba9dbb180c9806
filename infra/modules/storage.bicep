// The Function App's storage: host state, the Durable Functions task hub (Azure Storage backend: blobs,
// queues, tables), the Flex Consumption deployment package, Event Grid's dead letters, and the catalog
// watch's store (what it last saw of Microsoft's page, and the page sources it stored).
// Keys are off: everything uses Microsoft Entra identities.
param name string
param location string
param tags object
@description('The app\'s identity: the data roles Durable Functions and Flex Consumption deployment need.')
param appPrincipalId string

var deploymentContainerName = 'app-package'
var deadLetterContainerName = 'eventgrid-deadletter'
var catalogStoreContainerName = 'catalog-watch'

// Storage Blob Data Owner, Storage Queue Data Contributor, Storage Table Data Contributor.
var appDataRoleIds = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }

  resource blobServices 'blobServices' = {
    name: 'default'

    resource deployment 'containers' = {
      name: deploymentContainerName
      properties: { publicAccess: 'None' }
    }

    resource deadLetter 'containers' = {
      name: deadLetterContainerName
      properties: { publicAccess: 'None' }
    }

    // Made here so the app never has to; the app still creates it if it goes missing (its Storage Blob
    // Data Owner role allows that).
    resource catalogStore 'containers' = {
      name: catalogStoreContainerName
      properties: { publicAccess: 'None' }
    }
  }
}

resource appDataRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in appDataRoleIds: {
    name: guid(storage.id, appPrincipalId, roleId)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
      description: 'aks-egress-guard: Functions host, Durable Functions task hub, deployment package'
    }
  }
]

// Endpoints as the storage account reports them, so the DNS suffix is the cloud's own (core.windows.net,
// core.chinacloudapi.cn, core.usgovcloudapi.net): never built from the account name.
output id string = storage.id
output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
output deadLetterContainerName string = deadLetterContainerName
// AKS_EGRESS_CATALOG_STORE_URL: the catalog watch's container.
output catalogStoreContainerUrl string = '${storage.properties.primaryEndpoints.blob}${catalogStoreContainerName}'
