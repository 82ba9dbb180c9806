#!/bin/sh
# azd preprovision hook: is Flex Consumption offered in the region chosen (AZURE_LOCATION)?
#
# The regions that offer Flex Consumption change over time and differ between clouds, so main.bicep has
# no @allowed list (it would go stale and turn away regions added later). This asks Azure for its current
# list (az functionapp list-flexconsumption-locations) and stops before anything is created when the
# region is not in it. When the answer cannot be had (no az, an az without the command, not logged in,
# an empty list), it says so and lets the deployment go on: Azure then refuses the plan itself if the
# region has no Flex Consumption. GUARD_SKIP_REGION_CHECK=true skips the check.
set -eu

if [ "${GUARD_SKIP_REGION_CHECK:-}" = "true" ]; then
  echo "preprovision: region check skipped (GUARD_SKIP_REGION_CHECK=true)."
  exit 0
fi
if [ -z "${AZURE_LOCATION:-}" ]; then
  echo "preprovision: no AZURE_LOCATION yet; the Flex Consumption region is not checked (azd env set AZURE_LOCATION <region> first to check it)."
  exit 0
fi
if ! command -v az >/dev/null 2>&1; then
  echo "preprovision: warning: az not found, cannot check that Flex Consumption is offered in $AZURE_LOCATION." >&2
  exit 0
fi

# Region names compare without case and spaces (westeurope, West Europe).
normalize() { tr -d ' \t\r' | tr '[:upper:]' '[:lower:]'; }

if [ -n "${AZURE_SUBSCRIPTION_ID:-}" ]; then
  regions=$(az functionapp list-flexconsumption-locations --subscription "$AZURE_SUBSCRIPTION_ID" --query "[].name" --output tsv 2>/dev/null) || regions=""
else
  regions=$(az functionapp list-flexconsumption-locations --query "[].name" --output tsv 2>/dev/null) || regions=""
fi
regions=$(printf '%s\n' "$regions" | normalize | sed '/^$/d')
if [ -z "$regions" ]; then
  echo "preprovision: warning: could not get the Flex Consumption regions (az functionapp list-flexconsumption-locations: needs a recent az, logged in); $AZURE_LOCATION is not checked." >&2
  exit 0
fi

wanted=$(printf '%s' "$AZURE_LOCATION" | normalize)
if printf '%s\n' "$regions" | grep -Fqx "$wanted"; then
  echo "preprovision: Flex Consumption is offered in $AZURE_LOCATION."
  exit 0
fi
echo "preprovision: Flex Consumption is not offered in $AZURE_LOCATION. Regions that offer it:" >&2
printf '%s\n' "$regions" | sort | tr '\n' ' ' | sed 's/ $//' >&2
echo "" >&2
echo "Choose one: azd env set AZURE_LOCATION <region> (or GUARD_SKIP_REGION_CHECK=true to deploy anyway)." >&2
exit 1
