// Segment's opt-out consent model (@segment/analytics-consent-tools, `consentModel: 'opt-out'`) loads
// every device-mode destination and blocks per event afterwards, so a vendor's code would still load
// for a visitor who has already declined its category (a stored "decline", or GPC). A site on that
// model leaves such destinations out of the settings before anything loads (analytics.load's
// `updateCDNSettings`), as consent-tools does for opt-in. Shared by the klaro-us example and the CMP
// fixture sites (tests/fixtures/cmp/common/segment.js).

/** `cdnSettings` without the destinations whose consent categories are not all true in `categories`. */
export function withoutDeclined(cdnSettings, categories) {
  const declined = (name) => {
    const wanted = cdnSettings.integrations?.[name]?.consentSettings?.categories || []
    return wanted.length > 0 && !wanted.every((c) => categories[c] === true)
  }
  const integrations = { ...cdnSettings.integrations }
  for (const name of Object.keys(integrations)) if (declined(name)) delete integrations[name]
  return {
    ...cdnSettings,
    integrations,
    remotePlugins: (cdnSettings.remotePlugins || []).filter((p) => !declined(p.creationName)),
  }
}
