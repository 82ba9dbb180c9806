#!/bin/sh
# azd postdeploy hook: subscribe the armEvents function to the ARM events of every subscription in scope
# (one Event Grid system topic per subscription: EVENTGRID_SYSTEM_TOPIC_IDS, from main.bicep).
#
# The Event Grid trigger's webhook needs the Function App's Event Grid system key, which exists only once
# the code is deployed and the host has started, so this cannot be done in Bicep. The subscription body
# (event types, the data.operationName filter, retries, dead-lettering) is arm-events-subscription.json
# beside this script, shared with postdeploy.ps1; a test keeps its filter equal to what the code handles
# (functions/events/arm-event.ts EVENT_TYPES and OPERATIONS).
#
# Needs: az (logged in to the same tenant and cloud as azd), node. Reads the azd environment (Bicep
# outputs). Idempotent: a second run updates the subscriptions in place (and picks up a rotated key).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
template="$here/arm-events-subscription.json"

: "${AZURE_SUBSCRIPTION_ID:?not set: run through azd (azd deploy / azd up)}"
: "${AZURE_RESOURCE_GROUP:?missing Bicep output}"
: "${AZURE_FUNCTION_APP_NAME:?missing Bicep output}"
: "${AZURE_FUNCTION_APP_HOSTNAME:?missing Bicep output}"
: "${EVENTGRID_SYSTEM_TOPIC_IDS:?missing Bicep output (provisioned by an older template? run azd provision)}"
: "${EVENTGRID_DEAD_LETTER_STORAGE_ID:?missing Bicep output}"
: "${EVENTGRID_DEAD_LETTER_CONTAINER:?missing Bicep output}"
subscription_name="${EVENTGRID_SUBSCRIPTION_NAME:-aksegressguardarmevents}"
api_version="2022-06-15"

if ! az account show --subscription "$AZURE_SUBSCRIPTION_ID" --output none 2>/dev/null; then
  echo "postdeploy: az is not logged in to subscription $AZURE_SUBSCRIPTION_ID (run az login)." >&2
  exit 1
fi

# The key appears when the host has loaded the Event Grid extension, shortly after the deployment.
echo "postdeploy: waiting for the Event Grid system key of $AZURE_FUNCTION_APP_NAME ..."
key=""
attempt=0
while [ -z "$key" ]; do
  key=$(az functionapp keys list --subscription "$AZURE_SUBSCRIPTION_ID" --resource-group "$AZURE_RESOURCE_GROUP" \
    --name "$AZURE_FUNCTION_APP_NAME" --query "systemKeys.eventgrid_extension" --output tsv 2>/dev/null || true)
  if [ -z "$key" ]; then
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 30 ]; then
      echo "postdeploy: no eventgrid_extension system key after 5 minutes; is armEvents deployed? Run the hook again with: azd hooks run postdeploy" >&2
      exit 1
    fi
    sleep 10
  fi
done

encoded_key=$(node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$key")
endpoint="https://$AZURE_FUNCTION_APP_HOSTNAME/runtime/webhooks/eventgrid?functionName=armEvents&code=$encoded_key"

# sed replacement text: escape \, & and the | delimiter.
escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

umask 077
body=$(mktemp)
trap 'rm -f "$body"' EXIT
sed -e "s|__ENDPOINT_URL__|$(escape "$endpoint")|" \
  -e "s|__DEAD_LETTER_STORAGE_ID__|$(escape "$EVENTGRID_DEAD_LETTER_STORAGE_ID")|" \
  -e "s|__DEAD_LETTER_CONTAINER__|$(escape "$EVENTGRID_DEAD_LETTER_CONTAINER")|" \
  "$template" >"$body"

# Comma-separated topic resource IDs; the same body for each (the dead letters all go to the app's
# storage account).
set -f
old_ifs=$IFS
IFS=,
# shellcheck disable=SC2086 # split on commas on purpose
set -- $EVENTGRID_SYSTEM_TOPIC_IDS
IFS=$old_ifs
count=0
for topic_id in "$@"; do
  topic_id=$(printf '%s' "$topic_id" | tr -d ' \t\r\n')
  [ -n "$topic_id" ] || continue
  topic_name=${topic_id##*/}
  url="$topic_id/eventSubscriptions/$subscription_name?api-version=$api_version"
  echo "postdeploy: creating or updating event subscription $subscription_name on $topic_name ($topic_id) ..."
  az rest --method put --url "$url" --body "@$body" --headers "Content-Type=application/json" --output none

  # Event Grid validates the webhook (the Functions extension answers the handshake) before it succeeds.
  attempt=0
  while :; do
    state=$(az rest --method get --url "$url" --query "properties.provisioningState" --output tsv)
    case "$state" in
      Succeeded)
        echo "postdeploy: armEvents receives the ARM events of $topic_name (subscription $subscription_name)."
        break
        ;;
      Failed | Canceled)
        echo "postdeploy: event subscription $subscription_name is $state; see the Activity log of $topic_id." >&2
        exit 1
        ;;
    esac
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 30 ]; then
      echo "postdeploy: event subscription $subscription_name on $topic_id still $state after 5 minutes." >&2
      exit 1
    fi
    sleep 10
  done
  count=$((count + 1))
done

if [ "$count" -eq 0 ]; then
  echo "postdeploy: EVENTGRID_SYSTEM_TOPIC_IDS names no topic." >&2
  exit 1
fi
echo "postdeploy: armEvents is subscribed to $count system topic(s)."
