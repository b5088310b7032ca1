// Trailhead Outfitters' notice (klaro, npm `klaro`, a notice rather than a wall: `mustConsent: false`,
// every service on by `default`), its Segment consent wrapper set-up (@segment/analytics-consent-tools,
// `consentModel: 'opt-out'`) and its page tracking, in pieces: the site (site.js) and the defect
// fixture tests/fixtures/gpc-ignored compose the same pieces, so the fixture's own file holds only its
// defect.
import * as klaro from 'klaro'
import { createWrapper } from '@segment/analytics-consent-tools'
import { withoutDeclined } from '../../../common/declined.js'

// Klaro purposes → the consent-category ids configured in Segment.
const SEGMENT_CATEGORY = {
  necessary: 'C0001',
  analytics: 'C0002',
  advertising: 'C0004',
}

const klaroConfig = {
  version: 1,
  elementID: 'klaro',
  storageMethod: 'cookie',
  storageName: 'klaro',
  // US opt-out: services run until the visitor says no; the notice does not block the page.
  default: true,
  mustConsent: false,
  acceptAll: true,
  hideDeclineAll: false,
  lang: 'en',
  translations: {
    zz: { privacyPolicyUrl: '/#privacy' },
    en: {
      consentNotice: {
        description:
          'We use {purposes} to run this site, measure how guides are read and show you relevant ads. You can opt out at any time. We honour Global Privacy Control.',
      },
      ok: 'Accept all',
      decline: 'Do not sell or share my personal information',
      purposes: {
        necessary: { title: 'Necessary' },
        analytics: { title: 'Analytics' },
        advertising: { title: 'Advertising' },
      },
    },
  },
  services: [
    { name: 'preferences', title: 'Saved trails and this choice', purposes: ['necessary'], required: true },
    { name: 'mixpanel', title: 'Mixpanel (via Segment)', purposes: ['analytics'] },
    { name: 'google-analytics', title: 'Google Analytics 4 (via Segment)', purposes: ['analytics'] },
    { name: 'tiktok', title: 'TikTok Pixel (via Segment)', purposes: ['advertising'] },
  ],
}

/** Sets klaro up (it shows its notice when no choice is stored) and returns its consent manager. */
export function startKlaro() {
  // Exposed for the browser console and for test tooling (klaro's script-tag build does the same).
  window.klaro = klaro
  window.klaroConfig = klaroConfig
  klaro.setup(klaroConfig)
  return klaro.getManager(klaroConfig)
}

/**
 * Global Privacy Control is an opt-out of sale/sharing: decline advertising unless the visitor has
 * already made an explicit choice on this site. Neither analytics-next nor consent-tools read GPC, so
 * the CMP configuration must, before Segment loads: the consent stamp then says advertising: false
 * from the first event.
 */
export function declineAdvertisingUnderGpc(manager) {
  if (navigator.globalPrivacyControl === true && !manager.confirmed) {
    for (const service of klaroConfig.services) {
      if ((service.purposes || []).includes('advertising')) manager.updateConsent(service.name, false)
    }
  }
}

/**
 * Loads Segment (the snippet's `window.analytics`) through the consent wrapper on the opt-out model:
 * Segment and its destinations load at once, and once the visitor declines, consent-tools blocks every
 * later event per destination.
 */
export function loadSegment(manager) {
  /** A purpose counts as accepted when one of its services is. */
  const purposeAccepted = (purpose) =>
    klaroConfig.services.some((s) => (s.purposes || []).includes(purpose) && manager.getConsent(s.name))

  /** The current choice in Segment's shape, e.g. {C0001: true, C0002: true, C0004: false}. */
  function segmentCategories() {
    const categories = {}
    for (const [purpose, id] of Object.entries(SEGMENT_CATEGORY)) categories[id] = purposeAccepted(purpose)
    return categories
  }

  const withKlaro = createWrapper({
    shouldLoadSegment: (ctx) => ctx.load({ consentModel: 'opt-out' }),
    getCategories: () => segmentCategories(),
    registerOnConsentChanged: (setCategories) => {
      manager.watch({
        update: (_manager, name) => {
          if (name === 'saveConsents') setCategories(segmentCategories())
        },
      })
    },
  })

  const analytics = window.analytics
  withKlaro(analytics).load(analytics._writeKey, {
    initialPageview: true,
    // A destination already declined (a stored decline, or GPC) never loads (examples/common/declined.js).
    updateCDNSettings: (cdnSettings) => withoutDeclined(cdnSettings, segmentCategories()),
  })
}

/** The site's own tracking: guide views and saves, and the "privacy choices" link reopening klaro. */
export function trackTrails() {
  const analytics = window.analytics
  const guide = document.querySelector('[data-guide-id]')
  if (guide) {
    analytics.track('Trail Guide Viewed', { guide_id: guide.dataset.guideId, name: guide.dataset.guideName })
  }
  const save = document.getElementById('save-trail')
  if (save && guide) {
    save.addEventListener('click', () => {
      window.analytics.track('Trail Saved', { guide_id: guide.dataset.guideId })
    })
  }
  const choices = document.getElementById('privacy-choices')
  if (choices) choices.addEventListener('click', () => klaro.show(klaroConfig, true))
}
