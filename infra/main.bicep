// aks-egress-guard on Azure: a Flex Consumption Function App (Durable Functions, Azure Storage backend)
// with a user-assigned identity that has exactly the rights the app uses, an Event Grid system topic
// per subscription in scope that carries its ARM events, Application Insights with the queries and
// workbook that show the history, and a Key Vault for the approval-link signing key.
// The Event Grid subscriptions to the armEvents function are made by the postdeploy hook
// (infra/hooks/postdeploy.*): they need the function's Event Grid system key, which exists only once the
// code is deployed.
// Every module deployment is named with resourceToken (environment, subscription, region): deployments
// at subscription scope keep the region they were first made in, so a fixed name would make a second
// environment in another region of the same subscription fail with InvalidDeploymentLocation.
targetScope = 'subscription'

// ---------------------------------------------------------------------------------------------------
// azd
// ---------------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('azd environment name: names the resource group and seeds the resource names.')
param environmentName string

// Not an @allowed list: which regions offer Flex Consumption changes over time and per cloud, and a
// list written here would turn away regions added later. The preprovision hook
// (infra/hooks/preprovision.*) checks the region against Azure's current list before provisioning.
@minLength(1)
@description('Region of every resource. Flex Consumption must be offered there: az functionapp list-flexconsumption-locations (the preprovision hook checks).')
@metadata({ azd: { type: 'location' } })
param location string

@description('Resource group to create; default rg-<environmentName>.')
param resourceGroupName string = ''

// ---------------------------------------------------------------------------------------------------
// What the app manages
// ---------------------------------------------------------------------------------------------------

@minLength(1)
@description('Comma-separated resource IDs of the firewall policies the app manages (AKS_EGRESS_FIREWALL_POLICIES).')
param firewallPolicyIds string

@description('The default firewall policy (AKS_EGRESS_DEFAULT_FIREWALL_POLICY); added to those managed. Empty: none.')
param defaultFirewallPolicyId string = ''

@description('The default policy also serves clusters without the aks-egress-guard/firewall-policy tag.')
param includeUntagged bool = false

@allowed(['resourceGroup', 'policy'])
@description('Where the firewall policy writer role is assigned: each policy\'s resource group, or each policy itself.')
param firewallRoleScope string = 'resourceGroup'

@description('Comma-separated subscription IDs whose clusters may use the policies, besides each policy\'s own subscription (AKS_EGRESS_SUBSCRIPTIONS). Each gets an Event Grid system topic, as does each policy\'s subscription.')
param clusterSubscriptionIds string = ''

@description('Comma-separated scopes where the app gets Reader to read clusters, their subnets and where their egress goes (route tables, Azure Firewalls, virtual hubs): /subscriptions/<id> or /subscriptions/<id>/resourceGroups/<name>. Empty: each policy\'s subscription and each of clusterSubscriptionIds.')
param clusterReaderScopes string = ''

@allowed(['AzureCloud', 'AzureChinaCloud', 'AzureUSGovernment'])
@description('The cloud whose ARM the app talks to (AKS_EGRESS_CLOUD); by default the one deployed to.')
param cloud string = environment().name

@allowed(['audit', 'auto', 'approve'])
@description('Global remediation mode (AKS_EGRESS_MODE); a cluster tag overrides it.')
param mode string = 'approve'

@description('Removals always wait for a person (AKS_EGRESS_REMOVALS_NEED_APPROVAL).')
param removalsNeedApproval bool = true

@description('A plan removing more than this share of the managed rules is never applied unapproved (AKS_EGRESS_MAX_REMOVED_SHARE, 0 to 1).')
param maxRemovedShare string = '0.25'

@minValue(0)
@maxValue(720)
@description('Hours over which unapproved removals add up against maxRemovedShare (AKS_EGRESS_REMOVAL_WINDOW_HOURS).')
param removalWindowHours int = 24

@minValue(1)
@maxValue(10080)
@description('How long an approval link lives, in minutes (AKS_EGRESS_APPROVAL_TIMEOUT_MINUTES).')
param approvalTimeoutMinutes int = 1440

@allowed(['2020-01-22', '2020-02-29', '2023-06', '2025-02', '2026-06'])
@description('Catalog version of Microsoft\'s egress requirements (AKS_EGRESS_CATALOG_VERSION).')
param catalogVersion string = '2026-06'

@description('The one rule collection group the app writes in each policy (AKS_EGRESS_GROUP_NAME).')
param groupName string = 'aks-egress-guard'

@minValue(100)
@maxValue(65000)
@description('Priority of that group (AKS_EGRESS_GROUP_PRIORITY).')
param groupPriority int = 300

@description('Six-field NCRONTAB of the periodic sweep (AKS_EGRESS_SWEEP_SCHEDULE).')
param sweepSchedule string = '0 0 */6 * * *'

@description('Six-field NCRONTAB of the catalog watch (AKS_EGRESS_CATALOG_WATCH_SCHEDULE).')
param catalogWatchSchedule string = '0 30 5 * * *'

@description('The markdown source of Microsoft\'s AKS outbound-rules page, which the catalog watch reads (AKS_EGRESS_CATALOG_WATCH_URL).')
param catalogWatchUrl string = 'https://raw.githubusercontent.com/MicrosoftDocs/azure-aks-docs/main/articles/aks/outbound-rules-control-egress.md'

@minValue(0)
@maxValue(3600)
@description('Seconds that turn a burst of events into one pass (AKS_EGRESS_DEBOUNCE_SECONDS).')
param debounceSeconds int = 30

@description('Comma-separated features no cluster shows, e.g. ubuntu-updates (AKS_EGRESS_DEFAULT_FEATURES).')
param defaultFeatures string = ''

@description('Comma-separated DNS servers (ip or ip:port) asked for public API server addresses; the host\'s when empty (AKS_EGRESS_RESOLVERS).')
param resolvers string = ''

@description('Allow * as source for clusters whose subnets cannot be read (AKS_EGRESS_ALLOW_ANY_SOURCE).')
param allowAnySource bool = false

@description('Resource ID of an Event Grid topic (CloudEvents input schema) for AksEgressGuard.ApprovalRequested notifications. Empty: none. The app publishes with its identity (EventGrid Data Sender).')
param notificationTopicId string = ''

@description('Comma-separated resource IDs of existing Microsoft.Resources.Subscriptions system topics to use (Azure allows one per source subscription): no topic is created in their subscriptions. Each one\'s system-assigned identity needs Storage Blob Data Contributor on the dead-letter container.')
param existingSystemTopicIds string = ''

@description('Name of an existing system topic of the deployment\'s own subscription (the older form of existingSystemTopicIds). Empty: none.')
param existingSystemTopicName string = ''

@description('Resource group of that existing system topic.')
param existingSystemTopicResourceGroup string = ''

@description('Client ID of a Microsoft Entra app registration (single tenant, redirect URI https://<app host>/.auth/login/aad/callback, ID tokens enabled) for App Service Authentication in front of the approval links. Set: approvers sign in and are recorded by name (AKS_EGRESS_APPROVER_AUTH=appservice). Empty: no sign-in; approvers are recorded as unauthenticated link holders (none).')
param approverAuthClientId string = ''

@secure()
@minLength(32)
@description('Signs approval links (AKS_EGRESS_APPROVAL_SIGNING_KEY); stored in Key Vault. azd generates it once and keeps it in the environment.')
@metadata({ azd: { type: 'generate', config: { length: 48 } } })
param approvalSigningKey string

// ---------------------------------------------------------------------------------------------------
// Hosting
// ---------------------------------------------------------------------------------------------------

@minValue(40)
@maxValue(1000)
@description('Flex Consumption scale-out limit.')
param maximumInstanceCount int = 40

@allowed([2048, 4096])
@description('Flex Consumption instance memory (MB).')
param instanceMemoryMB int = 2048

@minValue(0)
@maxValue(40)
@description('Always-ready instances of the durable group (Microsoft\'s guidance for Durable Functions on Flex Consumption: at least 1). Billed as always-ready baseline; 0: none.')
param durableAlwaysReadyInstances int = 1

@description('Durable Functions task hub (AKS_EGRESS_TASK_HUB, read by host.json).')
param taskHubName string = 'aksegressguard'

@minValue(30)
@maxValue(730)
@description('Log Analytics retention (days): how far back the history goes.')
param logRetentionDays int = 90

// ---------------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName, application: 'aks-egress-guard' }

// The policies in scope, as the app computes them (the default one is added to the list), lower-cased
// (ARM IDs compare case-insensitively; the app does the same).
var listedPolicyIds = filter(map(split(firewallPolicyIds, ','), id => toLower(trim(id))), id => !empty(id))
var defaultPolicyIds = empty(trim(defaultFirewallPolicyId)) ? [] : [toLower(trim(defaultFirewallPolicyId))]
var managedPolicyIds = union(listedPolicyIds, defaultPolicyIds)
// /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Network/firewallPolicies/{p}
var policyResourceGroupIds = union(map(managedPolicyIds, id => join(take(split(id, '/'), 5), '/')), [])
var firewallAssignmentScopes = firewallRoleScope == 'policy' ? managedPolicyIds : policyResourceGroupIds

var extraSubscriptions = filter(map(split(clusterSubscriptionIds, ','), id => toLower(trim(id))), id => !empty(id))
var policySubscriptionScopes = map(managedPolicyIds, id => join(take(split(id, '/'), 3), '/'))
var policySubscriptionIds = union(map(managedPolicyIds, id => split(id, '/')[2]), [])
var defaultReaderScopes = union(policySubscriptionScopes, map(extraSubscriptions, id => '/subscriptions/${id}'))
var explicitReaderScopes = filter(map(split(clusterReaderScopes, ','), s => toLower(trim(s))), s => !empty(s))
var readerScopes = empty(explicitReaderScopes) ? defaultReaderScopes : union(explicitReaderScopes, [])
var readerSubscriptionScopes = filter(readerScopes, s => length(split(s, '/')) == 3)
var readerResourceGroupScopes = filter(readerScopes, s => length(split(s, '/')) == 5)

// Built-in roles (IDs are the same in every cloud).
var readerRoleId = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
var eventGridDataSenderRoleId = 'd5a91429-5739-47e2-a06b-3470a27159e7'

var rgName = !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'

// Event Grid: ARM events come from the subscription of the resource they concern, so every
// subscription in the app's scope (AKS_EGRESS_SUBSCRIPTIONS and each policy's own) needs a system topic:
// an existing one given in existingSystemTopicIds (or existingSystemTopicName), or one created in a
// resource group named rgName in that subscription.
var eventSourceSubscriptionIds = union(policySubscriptionIds, extraSubscriptions)
var legacyExistingTopicIds = empty(existingSystemTopicName) ? [] : ['${subscription().id}/resourceGroups/${existingSystemTopicResourceGroup}/providers/Microsoft.EventGrid/systemTopics/${existingSystemTopicName}']
var existingTopicIds = union(filter(map(split(existingSystemTopicIds, ','), id => trim(id)), id => !empty(id)), legacyExistingTopicIds)
var subscriptionsWithExistingTopics = map(existingTopicIds, id => toLower(split(id, '/')[2]))
var topicSubscriptionIds = filter(eventSourceSubscriptionIds, s => !contains(subscriptionsWithExistingTopics, s))
var systemTopicName = 'evgt-aeg-${resourceToken}'
var createdTopicIds = map(topicSubscriptionIds, s => '/subscriptions/${s}/resourceGroups/${rgName}/providers/Microsoft.EventGrid/systemTopics/${systemTopicName}')
// A module left out by its condition still has its scope evaluated: without a topic, point at a harmless one.
var notificationTopicOrPlaceholder = !empty(notificationTopicId) ? notificationTopicId : '${subscription().id}/resourceGroups/${rgName}/providers/Microsoft.EventGrid/topics/none'
var notificationTopicParts = split(notificationTopicOrPlaceholder, '/')

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: rgName
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity-${resourceToken}'
  scope: rg
  params: {
    name: 'id-aeg-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring-${resourceToken}'
  scope: rg
  params: {
    logAnalyticsName: 'log-aeg-${resourceToken}'
    appInsightsName: 'appi-aeg-${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionDays
    publisherPrincipalId: identity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage-${resourceToken}'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
  }
}

module vault 'modules/keyvault.bicep' = {
  name: 'keyvault-${resourceToken}'
  scope: rg
  params: {
    name: 'kv-aeg-${resourceToken}'
    location: location
    tags: tags
    signingKey: approvalSigningKey
    readerPrincipalId: identity.outputs.principalId
  }
}

module notification 'modules/notification-topic.bicep' = if (!empty(notificationTopicId)) {
  name: 'notification-topic-${resourceToken}'
  scope: resourceGroup(notificationTopicParts[2], notificationTopicParts[4])
  params: {
    topicName: last(notificationTopicParts)
    senderPrincipalId: identity.outputs.principalId
    roleDefinitionGuid: eventGridDataSenderRoleId
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp-${resourceToken}'
  scope: rg
  params: {
    appName: 'func-aeg-${resourceToken}'
    planName: 'plan-aeg-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    identityPrincipalId: identity.outputs.principalId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    catalogStoreUrl: storage.outputs.catalogStoreContainerUrl
    appInsightsConnectionString: monitoring.outputs.connectionString
    signingKeySecretUri: vault.outputs.signingKeySecretUri
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    durableAlwaysReadyInstances: durableAlwaysReadyInstances
    approverAuthClientId: trim(approverAuthClientId)
    guard: {
      cloud: cloud
      firewallPolicies: join(managedPolicyIds, ',')
      defaultFirewallPolicy: toLower(trim(defaultFirewallPolicyId))
      includeUntagged: includeUntagged
      subscriptions: join(extraSubscriptions, ',')
      groupName: groupName
      groupPriority: groupPriority
      catalogVersion: catalogVersion
      mode: mode
      removalsNeedApproval: removalsNeedApproval
      maxRemovedShare: maxRemovedShare
      removalWindowHours: removalWindowHours
      approvalTimeoutMinutes: approvalTimeoutMinutes
      notificationTopicEndpoint: !empty(notificationTopicId) ? notification.outputs.endpoint : ''
      sweepSchedule: sweepSchedule
      catalogWatchSchedule: catalogWatchSchedule
      catalogWatchUrl: catalogWatchUrl
      debounceSeconds: debounceSeconds
      defaultFeatures: defaultFeatures
      resolvers: resolvers
      allowAnySource: allowAnySource
      taskHubName: taskHubName
    }
  }
}

// One subscription-scoped deployment per subscription in scope without an existing topic. The storage
// outputs make each wait for the app's resource group and the dead-letter container.
module eventTopics 'modules/eventgrid-subscription.bicep' = [
  for topicSubscriptionId in topicSubscriptionIds: {
    name: 'evgt-${uniqueString(topicSubscriptionId, resourceToken)}'
    scope: subscription(topicSubscriptionId)
    params: {
      resourceGroupName: rgName
      location: location
      tags: tags
      systemTopicName: systemTopicName
      deploymentSuffix: resourceToken
      storageSubscriptionId: subscription().subscriptionId
      storageResourceGroupName: rg.name
      storageAccountName: storage.outputs.name
      deadLetterContainerName: storage.outputs.deadLetterContainerName
    }
  }
]

module workbook 'modules/workbook.bicep' = {
  name: 'workbook-${resourceToken}'
  scope: rg
  params: {
    location: location
    tags: tags
    appInsightsId: monitoring.outputs.appInsightsId
  }
}

// ---------------------------------------------------------------------------------------------------
// Least privilege on the estate: a custom role with exactly the firewall policy actions the app uses
// (azure/permissions.ts FIREWALL_POLICY_ACTIONS), and Reader where the clusters and subnets are, and
// on the policies' subscriptions, where hub networks, route tables and firewalls usually are
// (azure/permissions.ts READ_ACTIONS: each a read, all within Reader's */read).
// ---------------------------------------------------------------------------------------------------

// Created in the (first) firewall policy's subscription, assignable on the policies' resource groups.
// The assignments below take the role's GUID from this module's outputs, so ARM starts them only once
// the role definition is created. Role definitions replicate with a delay and Bicep has no way to wait
// for that: if an assignment fails with RoleDefinitionDoesNotExist on the first run, run
// `azd provision` again (every resource here is idempotent; see infra/README.md).
module firewallPolicyWriter 'modules/firewall-policy-role.bicep' = {
  name: 'firewall-policy-role-${resourceToken}'
  scope: subscription(split(managedPolicyIds[0], '/')[2])
  params: {
    roleName: 'AKS egress guard firewall policy writer (${environmentName}, ${resourceToken})'
    roleGuid: guid(subscription().id, environmentName, 'aks-egress-guard-firewall-policy-writer')
    assignableScopes: policyResourceGroupIds
  }
}

module firewallOnResourceGroup 'modules/role-assignment-resource-group.bicep' = [
  for target in (firewallRoleScope == 'resourceGroup' ? firewallAssignmentScopes : []): {
    name: 'fw-rg-${uniqueString(target, resourceToken)}'
    scope: resourceGroup(split(target, '/')[2], split(target, '/')[4])
    params: {
      principalId: identity.outputs.principalId
      roleDefinitionGuid: firewallPolicyWriter.outputs.roleGuid
      assignmentDescription: 'aks-egress-guard (${environmentName}): firewall policy rule collection groups'
    }
  }
]

module firewallOnPolicy 'modules/role-assignment-firewall-policy.bicep' = [
  for target in (firewallRoleScope == 'policy' ? firewallAssignmentScopes : []): {
    name: 'fw-policy-${uniqueString(target, resourceToken)}'
    scope: resourceGroup(split(target, '/')[2], split(target, '/')[4])
    params: {
      policyName: last(split(target, '/'))
      principalId: identity.outputs.principalId
      roleDefinitionGuid: firewallPolicyWriter.outputs.roleGuid
      assignmentDescription: 'aks-egress-guard (${environmentName}): firewall policy rule collection groups'
    }
  }
]

module readerOnSubscription 'modules/role-assignment-subscription.bicep' = [
  for target in readerSubscriptionScopes: {
    name: 'reader-sub-${uniqueString(target, resourceToken)}'
    scope: subscription(split(target, '/')[2])
    params: {
      principalId: identity.outputs.principalId
      roleDefinitionGuid: readerRoleId
      assignmentDescription: 'aks-egress-guard (${environmentName}): read clusters and their subnets'
    }
  }
]

module readerOnResourceGroup 'modules/role-assignment-resource-group.bicep' = [
  for target in readerResourceGroupScopes: {
    name: 'reader-rg-${uniqueString(target, resourceToken)}'
    scope: resourceGroup(split(target, '/')[2], split(target, '/')[4])
    params: {
      principalId: identity.outputs.principalId
      roleDefinitionGuid: readerRoleId
      assignmentDescription: 'aks-egress-guard (${environmentName}): read clusters and their subnets'
    }
  }
]

// ---------------------------------------------------------------------------------------------------
// Outputs: azd stores them in the environment; the postdeploy hook and the README use them.
// ---------------------------------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_HOSTNAME string = functionApp.outputs.defaultHostName
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output APPLICATION_INSIGHTS_NAME string = monitoring.outputs.appInsightsName
output LOG_ANALYTICS_WORKSPACE_NAME string = monitoring.outputs.logAnalyticsName
output KEY_VAULT_NAME string = vault.outputs.name
output WORKBOOK_ID string = workbook.outputs.id
// Every system topic the postdeploy hook subscribes armEvents to, comma-separated resource IDs.
output EVENTGRID_SYSTEM_TOPIC_IDS string = join(union(createdTopicIds, existingTopicIds), ',')
output EVENTGRID_DEAD_LETTER_STORAGE_ID string = storage.outputs.id
output EVENTGRID_DEAD_LETTER_CONTAINER string = storage.outputs.deadLetterContainerName
output FIREWALL_POLICY_ROLE_ID string = firewallPolicyWriter.outputs.id
