// Lumen Shop's cookie banner (vanilla-cookieconsent v3, opt-in), its Segment consent wrapper set-up
// (@segment/analytics-consent-tools) and its page tracking, in pieces: the shop (site.js), the
// proxy-batch example and the defect fixtures under tests/fixtures/ compose the same pieces, so each
// of their own files holds only what differs (a fixture: its one defect).
//
// The page's Segment snippet defines the `window.analytics` queue but does not call `analytics.load`:
// the site does, through the wrapper, which holds Segment back until the visitor has decided and then
// removes every device-mode destination whose consent categories were not all accepted.
import 'vanilla-cookieconsent/dist/cookieconsent.css'
import * as CookieConsent from 'vanilla-cookieconsent'
import { createWrapper } from '@segment/analytics-consent-tools'

/** The CMP's categories, as the consent-category ids configured in Segment. */
export const SEGMENT_CATEGORY = {
  necessary: 'C0001',
  analytics: 'C0002',
  advertising: 'C0004',
}

/**
 * Runs the banner (it renders itself when no decision is stored) and returns what the Segment set-up
 * needs from it: `ready` (the CMP has initialised), `decision` (the visitor has decided, now or on an
 * earlier visit), `categories()` (the current choice in Segment's shape, e.g. {C0001: true, C0002:
 * false, C0004: false}, through `segmentCategory`) and `onChange(cb)` (called with that shape on the
 * first decision and every later change).
 */
export function startBanner(segmentCategory = SEGMENT_CATEGORY) {
  const categories = () => {
    const result = {}
    for (const [cmpName, id] of Object.entries(segmentCategory)) {
      result[id] = CookieConsent.acceptedCategory(cmpName)
    }
    return result
  }

  let cmpReady
  const ready = new Promise((resolve) => (cmpReady = resolve))
  let decided
  const decision = new Promise((resolve) => (decided = resolve))
  const listeners = []
  const notifyConsentChanged = () => {
    const current = categories()
    listeners.forEach((cb) => cb(current))
  }

  // Exposed for the browser console and for test tooling (the UMD build of the library does the same).
  window.CookieConsent = CookieConsent

  CookieConsent.run({
    mode: 'opt-in',
    revision: 1,
    guiOptions: {
      consentModal: { layout: 'box', position: 'bottom right', equalWeightButtons: true },
      preferencesModal: { layout: 'box', equalWeightButtons: true },
    },
    categories: {
      necessary: { enabled: true, readOnly: true },
      analytics: {
        autoClear: { cookies: [{ name: /^_ga/ }] },
      },
      advertising: {
        autoClear: { cookies: [{ name: '_fbp' }] },
      },
    },
    // First decision, and every page load where a valid decision already exists.
    onConsent: () => decided(),
    // The first decision is a change too (from "undecided"): tell Segment about it like a later change.
    onFirstConsent: () => notifyConsentChanged(),
    onChange: () => notifyConsentChanged(),
    language: {
      default: 'en',
      translations: {
        en: {
          consentModal: {
            title: 'We use cookies',
            description:
              'Lumen Shop uses cookies to keep your cart, to measure how the shop is used (analytics) and to show you relevant ads (advertising). Choose which ones you allow.',
            acceptAllBtn: 'Accept all',
            acceptNecessaryBtn: 'Reject all',
            showPreferencesBtn: 'Manage preferences',
          },
          preferencesModal: {
            title: 'Cookie preferences',
            acceptAllBtn: 'Accept all',
            acceptNecessaryBtn: 'Reject all',
            savePreferencesBtn: 'Save preferences',
            closeIconLabel: 'Close',
            sections: [
              {
                title: 'Your choices',
                description: 'You can change these settings at any time from the "Cookie settings" link.',
              },
              {
                title: 'Strictly necessary',
                description: 'Needed for the cart and for remembering this choice. Always on.',
                linkedCategory: 'necessary',
              },
              {
                title: 'Analytics',
                description: 'Measure visits and product views (Segment, Google Analytics 4).',
                linkedCategory: 'analytics',
              },
              {
                title: 'Advertising',
                description: 'Measure ad conversions and show relevant ads (Meta Pixel).',
                linkedCategory: 'advertising',
              },
            ],
          },
        },
      },
    },
  }).then(() => {
    cmpReady()
    if (CookieConsent.validConsent()) decided()
  })

  return { ready, decision, categories, onChange: (cb) => listeners.push(cb) }
}

/** The consent wrapper's options for an opt-in site driven by `banner` (from `startBanner`). */
export function optInWrapperOptions(banner) {
  return {
    // Wait for the CMP to initialise (it reads its cookie and renders the banner when no decision exists).
    shouldLoadWrapper: () => banner.ready,
    // Opt-in: load nothing until the visitor has decided.
    shouldLoadSegment: async (ctx) => {
      await banner.decision
      ctx.load({ consentModel: 'opt-in' })
    },
    getCategories: () => banner.categories(),
    registerOnConsentChanged: (setCategories) => {
      banner.onChange(setCategories)
    },
  }
}

/** Loads Segment (the snippet's `window.analytics`) through the consent wrapper built from `options`. */
export function loadThroughWrapper(options, loadOptions = { initialPageview: true }) {
  const analytics = window.analytics
  createWrapper(options)(analytics).load(analytics._writeKey, loadOptions)
}

/**
 * The whole shop: the banner, Segment through the consent wrapper, the page tracking. A site that
 * differs passes only its difference: `segmentCategory` (the CMP → Segment mapping), `wrapper(options,
 * banner)` (the wrapper's options, changed) and `load` (analytics.load's options).
 */
export function runShop({ segmentCategory, wrapper = (options) => options, load } = {}) {
  const banner = startBanner(segmentCategory)
  loadThroughWrapper(wrapper(optInWrapperOptions(banner), banner), load)
  trackShopping()
}

/** The shop's own tracking: "Product Viewed" on a product page, "Product Added" on "Add to cart". */
export function trackShopping() {
  const analytics = window.analytics
  const product = document.querySelector('[data-product-id]')
  const productProperties = product && {
    product_id: product.dataset.productId,
    name: product.dataset.productName,
    price: Number(product.dataset.price),
    currency: product.dataset.currency,
  }

  if (productProperties) {
    analytics.track('Product Viewed', productProperties)
  }

  let cartCount = 0
  const addToCart = document.getElementById('add-to-cart')
  if (addToCart && productProperties) {
    addToCart.addEventListener('click', () => {
      cartCount += 1
      const counter = document.getElementById('cart-count')
      if (counter) counter.textContent = `Cart: ${cartCount}`
      // Once analytics.js has loaded, window.analytics is the real instance (the snippet queue forwards to it too).
      window.analytics.track('Product Added', { ...productProperties, quantity: 1 })
    })
  }
}
