-- Argo CD health check for eksoidc.io/OidcIdentityProvider.
-- Install: the `resource.customizations.health.eksoidc.io_OidcIdentityProvider` key of the
-- argocd-cm ConfigMap (see docs/gitops.md). Tested in tests/gitops/test_health_checks.py.
local hs = {}
if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end
-- Paused (the eksoidc.io/paused annotation): the operator does nothing until it is lifted,
-- and a spec change is not observed meanwhile. Argo CD's word for that is Suspended.
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Paused" and condition.status == "True" then
    hs.status = "Suspended"
    hs.message = condition.message or "Paused"
    return hs
  end
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end
local ready, stalled, reconciling = nil, nil, nil
for _, condition in ipairs(obj.status.conditions) do
  if condition.type == "Ready" then ready = condition end
  if condition.type == "Stalled" then stalled = condition end
  if condition.type == "Reconciling" then reconciling = condition end
end
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.reason .. ": " .. (stalled.message or "")
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  return hs
end
hs.status = "Progressing"
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = reconciling.reason .. ": " .. (reconciling.message or "")
elseif ready ~= nil then
  hs.message = ready.reason .. ": " .. (ready.message or "")
else
  hs.message = "In progress"
end
return hs
