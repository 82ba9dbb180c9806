# azd postdeploy hook (Windows / PowerShell 7): subscribe the armEvents function to the ARM events of every
# subscription in scope. Same steps as postdeploy.sh: wait for the Function App's Event Grid system key,
# fill arm-events-subscription.json (event types, the data.operationName filter, retries, dead-lettering),
# and for each system topic of EVENTGRID_SYSTEM_TOPIC_IDS PUT the event subscription and wait until
# Event Grid has validated the webhook.
# Needs: az (logged in to the same tenant and cloud as azd). Idempotent.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Require([string] $name) {
  $value = [Environment]::GetEnvironmentVariable($name)
  if ([string]::IsNullOrEmpty($value)) { throw "postdeploy: $name is not set (run through azd: azd deploy / azd up)." }
  return $value
}

$subscriptionId = Require 'AZURE_SUBSCRIPTION_ID'
$resourceGroup = Require 'AZURE_RESOURCE_GROUP'
$appName = Require 'AZURE_FUNCTION_APP_NAME'
$hostName = Require 'AZURE_FUNCTION_APP_HOSTNAME'
$topicIds = @((Require 'EVENTGRID_SYSTEM_TOPIC_IDS').Split(',') | ForEach-Object { $_.Trim() } | Where-Object { $_ -ne '' })
if ($topicIds.Count -eq 0) { throw 'postdeploy: EVENTGRID_SYSTEM_TOPIC_IDS names no topic.' }
$deadLetterStorageId = Require 'EVENTGRID_DEAD_LETTER_STORAGE_ID'
$deadLetterContainer = Require 'EVENTGRID_DEAD_LETTER_CONTAINER'
$subscriptionName = if ($env:EVENTGRID_SUBSCRIPTION_NAME) { $env:EVENTGRID_SUBSCRIPTION_NAME } else { 'aksegressguardarmevents' }
$apiVersion = '2022-06-15'
$template = Join-Path $PSScriptRoot 'arm-events-subscription.json'

az account show --subscription $subscriptionId --output none 2>$null
if ($LASTEXITCODE -ne 0) { throw "postdeploy: az is not logged in to subscription $subscriptionId (run az login)." }

# The key appears when the host has loaded the Event Grid extension, shortly after the deployment.
Write-Host "postdeploy: waiting for the Event Grid system key of $appName ..."
$key = ''
for ($attempt = 1; [string]::IsNullOrEmpty($key); $attempt++) {
  $key = az functionapp keys list --subscription $subscriptionId --resource-group $resourceGroup --name $appName `
    --query 'systemKeys.eventgrid_extension' --output tsv 2>$null
  if ([string]::IsNullOrEmpty($key)) {
    if ($attempt -ge 30) {
      throw 'postdeploy: no eventgrid_extension system key after 5 minutes; is armEvents deployed? Run the hook again with: azd hooks run postdeploy'
    }
    Start-Sleep -Seconds 10
  }
}

$endpoint = "https://$hostName/runtime/webhooks/eventgrid?functionName=armEvents&code=$([uri]::EscapeDataString($key.Trim()))"
$body = Get-Content -Raw -Path $template
$body = $body.Replace('__ENDPOINT_URL__', $endpoint)
$body = $body.Replace('__DEAD_LETTER_STORAGE_ID__', $deadLetterStorageId)
$body = $body.Replace('__DEAD_LETTER_CONTAINER__', $deadLetterContainer)

$bodyFile = New-TemporaryFile
try {
  Set-Content -Path $bodyFile -Value $body -NoNewline -Encoding utf8
  foreach ($topicId in $topicIds) {
    $topicName = $topicId.Split('/')[-1]
    $url = "$topicId/eventSubscriptions/$($subscriptionName)?api-version=$apiVersion"
    Write-Host "postdeploy: creating or updating event subscription $subscriptionName on $topicName ($topicId) ..."
    az rest --method put --url $url --body "@$bodyFile" --headers 'Content-Type=application/json' --output none
    if ($LASTEXITCODE -ne 0) { throw "postdeploy: creating event subscription $subscriptionName on $topicId failed." }

    # Event Grid validates the webhook (the Functions extension answers the handshake) before it succeeds.
    for ($attempt = 1; ; $attempt++) {
      $state = az rest --method get --url $url --query 'properties.provisioningState' --output tsv
      if ($state -eq 'Succeeded') {
        Write-Host "postdeploy: armEvents receives the ARM events of $topicName (subscription $subscriptionName)."
        break
      }
      if ($state -in @('Failed', 'Canceled')) {
        throw "postdeploy: event subscription $subscriptionName is $state; see the Activity log of $topicId."
      }
      if ($attempt -ge 30) { throw "postdeploy: event subscription $subscriptionName on $topicId still $state after 5 minutes." }
      Start-Sleep -Seconds 10
    }
  }
}
finally {
  Remove-Item -Path $bodyFile -Force -ErrorAction SilentlyContinue
}
Write-Host "postdeploy: armEvents is subscribed to $($topicIds.Count) system topic(s)."
