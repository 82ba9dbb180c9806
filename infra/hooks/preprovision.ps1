# azd preprovision hook (Windows / PowerShell 7): is Flex Consumption offered in the region chosen
# (AZURE_LOCATION)? Same check as preprovision.sh: ask Azure for its current list
# (az functionapp list-flexconsumption-locations) and stop before anything is created when the region is
# not in it; when the answer cannot be had (no az, an az without the command, not logged in, an empty
# list), say so and go on (Azure then refuses the plan itself). GUARD_SKIP_REGION_CHECK=true skips it.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

if ($env:GUARD_SKIP_REGION_CHECK -eq 'true') {
  Write-Host 'preprovision: region check skipped (GUARD_SKIP_REGION_CHECK=true).'
  exit 0
}
$location = $env:AZURE_LOCATION
if ([string]::IsNullOrWhiteSpace($location)) {
  Write-Host 'preprovision: no AZURE_LOCATION yet; the Flex Consumption region is not checked (azd env set AZURE_LOCATION <region> first to check it).'
  exit 0
}
if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
  Write-Warning "preprovision: az not found, cannot check that Flex Consumption is offered in $location."
  exit 0
}

# Region names compare without case and spaces (westeurope, West Europe).
function Normalize([string] $name) { return ($name -replace '\s', '').ToLowerInvariant() }

$arguments = @('functionapp', 'list-flexconsumption-locations', '--query', '[].name', '--output', 'tsv')
if (-not [string]::IsNullOrWhiteSpace($env:AZURE_SUBSCRIPTION_ID)) { $arguments += @('--subscription', $env:AZURE_SUBSCRIPTION_ID) }
$output = & az @arguments 2>$null
$regions = @()
if ($LASTEXITCODE -eq 0 -and $null -ne $output) {
  $regions = @($output | ForEach-Object { Normalize $_ } | Where-Object { $_ -ne '' })
}
if ($regions.Count -eq 0) {
  Write-Warning "preprovision: could not get the Flex Consumption regions (az functionapp list-flexconsumption-locations: needs a recent az, logged in); $location is not checked."
  exit 0
}

if ($regions -contains (Normalize $location)) {
  Write-Host "preprovision: Flex Consumption is offered in $location."
  exit 0
}
Write-Host "preprovision: Flex Consumption is not offered in $location. Regions that offer it: $(($regions | Sort-Object) -join ' ')"
Write-Host 'Choose one: azd env set AZURE_LOCATION <region> (or GUARD_SKIP_REGION_CHECK=true to deploy anyway).'
exit 1
