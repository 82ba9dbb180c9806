// The Function App on Flex Consumption (Linux, Node.js 22), its plan, and its app settings: exactly the
// settings the code reads (orchestrations/settings.ts SETTING_NAMES and HOST_SETTING_NAMES, without the
// local-only ARM emulator ones) plus the Functions runtime's own. A test cross-checks the list.
param appName string
param planName string
param location string
param tags object

@description('Resource ID, client ID and principal ID of the app\'s user-assigned identity.')
param identityId string
param identityClientId string
param identityPrincipalId string

@description('Blob, queue and table service URIs of the host storage account (its primaryEndpoints).')
param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string
@description('Blob container URL Flex Consumption deploys the package from.')
param deploymentContainerUrl string
@description('Blob container URL where the catalog watch keeps its state (AKS_EGRESS_CATALOG_STORE_URL).')
param catalogStoreUrl string
param appInsightsConnectionString string
@description('Key Vault secret URI (no version) of the approval signing key.')
param signingKeySecretUri string

param maximumInstanceCount int
param instanceMemoryMB int
@description('Always-ready instances of the durable group (orchestrator, entity and activity triggers); 0: none.')
param durableAlwaysReadyInstances int

@description('The app\'s own settings (see main.bicep parameters).')
param guard object

@description('Client ID of the Entra app registration approvers sign in with (App Service Authentication). Empty: not configured.')
param approverAuthClientId string = ''

// App Service Authentication fronts the approval routes exactly when an app registration is given; the
// app reads x-ms-client-principal only then (AKS_EGRESS_APPROVER_AUTH), as the header is anyone's to
// send when nothing in front strips and sets it.
var approverAuthEnabled = !empty(approverAuthClientId)

// Everything but the approval links answers without sign-in: these are protected by keys of their own
// (the Event Grid and Durable extensions' system keys, function keys, the host's master key), and their
// callers (Event Grid, the portal, scripts) cannot sign in interactively. An entry names one path; a
// trailing /* also covers the paths below it (App Service's file-based auth configuration reference).
// The deployment itself goes to the scm site, which App Service Authentication does not front.
var unauthenticatedPaths = [
  // Event Grid trigger webhook (armEvents): the eventgrid_extension system key, validated handshake.
  '/runtime/webhooks/eventgrid'
  // Durable Functions HTTP API (status, raise event, terminate): the durabletask_extension system key.
  '/runtime/webhooks/durabletask/*'
  // Function-key routes (functions/status.ts, functions/reconcile.ts, functions/estate.ts).
  '/api/status'
  '/api/reconcile'
  '/api/estate'
  // The Functions host admin API: the master key (portal, tooling).
  '/admin/*'
]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  // azd finds the service's Function App by this tag (azure.yaml: services.guard).
  tags: union(tags, { 'azd-service-name': 'guard' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        // Microsoft's guidance for Durable Functions on Flex Consumption: keep an instance of the durable
        // group (orchestration, entity and activity triggers) always ready, so that work queued in the
        // task hub is picked up without waiting for the scale controller to start an instance. Billed
        // as always-ready baseline; durableAlwaysReadyInstances = 0 leaves it out.
        alwaysReady: durableAlwaysReadyInstances > 0 ? [{ name: 'durable', instanceCount: durableAlwaysReadyInstances }] : []
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }

  resource appSettings 'config' = {
    name: 'appsettings'
    properties: {
      // Functions runtime: identity-based host storage (no keys), telemetry with the identity.
      // (Flex Consumption takes the runtime and version from functionAppConfig, not from
      // FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION.)
      // The service URIs, from the account's primaryEndpoints, not AzureWebJobsStorage__accountName: the
      // runtime expands an account name with the public cloud's suffix (core.windows.net), so that form
      // works in the public cloud only. The Durable Functions task hub (host.json names no connection
      // of its own: AzureWebJobsStorage) uses all three: blobs (leases, large messages), queues, tables.
      AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
      AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
      AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identityClientId
      APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
      // DefaultAzureCredential (ARM, notification topic) uses the user-assigned identity.
      AZURE_CLIENT_ID: identityClientId

      // Read by host.json (durableTask.hubName).
      AKS_EGRESS_TASK_HUB: guard.taskHubName

      // orchestrations/settings.ts
      AKS_EGRESS_CLOUD: guard.cloud
      AKS_EGRESS_FIREWALL_POLICIES: guard.firewallPolicies
      AKS_EGRESS_DEFAULT_FIREWALL_POLICY: guard.defaultFirewallPolicy
      AKS_EGRESS_INCLUDE_UNTAGGED: guard.includeUntagged ? 'true' : 'false'
      AKS_EGRESS_SUBSCRIPTIONS: guard.subscriptions
      AKS_EGRESS_GROUP_NAME: guard.groupName
      AKS_EGRESS_GROUP_PRIORITY: string(guard.groupPriority)
      AKS_EGRESS_CATALOG_VERSION: guard.catalogVersion
      AKS_EGRESS_MODE: guard.mode
      AKS_EGRESS_REMOVALS_NEED_APPROVAL: guard.removalsNeedApproval ? 'true' : 'false'
      AKS_EGRESS_MAX_REMOVED_SHARE: guard.maxRemovedShare
      AKS_EGRESS_REMOVAL_WINDOW_HOURS: string(guard.removalWindowHours)
      AKS_EGRESS_APPROVAL_TIMEOUT_MINUTES: string(guard.approvalTimeoutMinutes)
      AKS_EGRESS_APPROVAL_SIGNING_KEY: '@Microsoft.KeyVault(SecretUri=${signingKeySecretUri})'
      // Whether App Service Authentication fronts the approval routes (the authSettings resource below).
      AKS_EGRESS_APPROVER_AUTH: approverAuthEnabled ? 'appservice' : 'none'
      // Events this identity caused (the app's own writes) are dropped.
      AKS_EGRESS_APP_OBJECT_ID: identityPrincipalId
      AKS_EGRESS_APP_CLIENT_ID: identityClientId
      AKS_EGRESS_NOTIFICATION_TOPIC_ENDPOINT: guard.notificationTopicEndpoint
      // Empty: the app publishes to the topic with its identity (EventGrid Data Sender), no key.
      AKS_EGRESS_NOTIFICATION_TOPIC_KEY: ''
      AKS_EGRESS_SWEEP_SCHEDULE: guard.sweepSchedule
      // The catalog watch (functions/catalogWatch.ts); its timer binding reads the schedule.
      AKS_EGRESS_CATALOG_WATCH_SCHEDULE: guard.catalogWatchSchedule
      AKS_EGRESS_CATALOG_WATCH_URL: guard.catalogWatchUrl
      // Only notify is built: a change of Microsoft's page is reported, never adopted.
      AKS_EGRESS_CATALOG_ADOPTION: 'notify'
      // What the watch last saw and the pages it stored survive restarts there (the app's identity has
      // Storage Blob Data Owner on the account).
      AKS_EGRESS_CATALOG_STORE_URL: catalogStoreUrl
      AKS_EGRESS_DEBOUNCE_SECONDS: string(guard.debounceSeconds)
      AKS_EGRESS_DEFAULT_FEATURES: guard.defaultFeatures
      AKS_EGRESS_RESOLVERS: guard.resolvers
      AKS_EGRESS_ALLOW_ANY_SOURCE: guard.allowAnySource ? 'true' : 'false'
      AKS_EGRESS_PUBLIC_BASE_URL: 'https://${site.properties.defaultHostName}'
      // AKS_EGRESS_ARM_ENDPOINT and AKS_EGRESS_ARM_CA_FILE are for the local ARM emulator only: never set here.
    }
  }

  // App Service Authentication (Easy Auth) with Microsoft Entra ID in front of the approval links:
  // sign-in is required everywhere except unauthenticatedPaths, and a browser without a session is
  // sent to the Entra sign-in page, then back to the link (query string and its token included).
  // No client secret: sign-in returns an ID token only (the app registration must allow ID tokens),
  // which is all Easy Auth needs to set x-ms-client-principal; there is no secret to store or rotate.
  // The token store is off: Flex Consumption has no content file share for it, and the app reads only
  // the principal headers, never tokens. Left out when not configured: a deployment without
  // approverAuthClientId does not touch authentication configured by other means.
  resource authSettings 'config' = if (approverAuthEnabled) {
    name: 'authsettingsV2'
    // Both are site config: written one after the other, not concurrently.
    dependsOn: [
      appSettings
    ]
    properties: {
      platform: {
        enabled: true
      }
      globalValidation: {
        requireAuthentication: true
        unauthenticatedClientAction: 'RedirectToLoginPage'
        redirectToProvider: 'azureactivedirectory'
        excludedPaths: unauthenticatedPaths
      }
      identityProviders: {
        azureActiveDirectory: {
          enabled: true
          registration: {
            clientId: approverAuthClientId
            // Single tenant: the tenant deployed to, in the cloud deployed to.
            openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
          }
          // ID tokens from sign-in carry the client ID as audience, always accepted; as the portal
          // does, bearer tokens for the registration's api:// URI are accepted too.
          validation: {
            allowedAudiences: [
              'api://${approverAuthClientId}'
            ]
          }
        }
      }
      login: {
        tokenStore: {
          enabled: false
        }
        preserveUrlFragmentsForLogins: false
      }
      httpSettings: {
        requireHttps: true
        forwardProxy: {
          convention: 'NoProxy'
        }
      }
    }
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
