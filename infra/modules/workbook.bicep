// The history workbook: the queries of infra/queries, bound to this Application Insights resource.
param location string
param tags object
param appInsightsId string

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, appInsightsId, 'aks-egress-guard-history')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'AKS egress guard: history'
    category: 'workbook'
    sourceId: toLower(appInsightsId)
    serializedData: replace(loadTextContent('../workbook/aks-egress-guard.workbook.json'), '__APP_INSIGHTS_ID__', appInsightsId)
    version: '1.0'
  }
}

output id string = workbook.id
