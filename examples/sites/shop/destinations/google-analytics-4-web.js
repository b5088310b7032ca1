/*
 * Stand-in for Segment's "Google Analytics 4 Web" action destination (segmentio/action-destinations,
 * packages/browser-destinations/destinations/google-analytics-4-web), as served from
 * cdn.segment.com/next-integrations/actions/google-analytics-4-web/<contenthash>.js.
 * Like the real bundle it defines window['google-analytics-4-webDestination'], a Segment PluginFactory:
 * called with the remotePlugins[].settings, it returns the destination's plugins. On load it sets up
 * gtag/dataLayer and injects Google's tag (https://www.googletagmanager.com/gtag/js?id=<measurementID>);
 * events are forwarded as gtag('event', ...). Not Segment's code.
 */
import { defineDestination } from '../../../common/destination.js'

var EVENTS = { 'Product Viewed': 'view_item', 'Product Added': 'add_to_cart', 'Order Completed': 'purchase' }
function snake(name) {
  return String(name).trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 40)
}
function item(p) {
  return { item_id: p.product_id, item_name: p.name, price: p.price, quantity: p.quantity || 1 }
}

defineDestination('google-analytics-4-web', 'Google Analytics 4 Web', function (settings) {
  var measurementID = settings.measurementID
  function gtag() { window.gtag.apply(window, arguments) }
  var domain = settings.domain || 'www.googletagmanager.com'
  return {
    script: 'https://' + domain + '/gtag/js?id=' + measurementID,
    setUp: function () {
      window.dataLayer = window.dataLayer || []
      window.gtag = window.gtag || function () { window.dataLayer.push(arguments) }
      gtag('js', new Date())
      gtag('config', measurementID, {
        send_page_view: false,
        allow_google_signals: settings.allowGoogleSignals,
        allow_ad_personalization_signals: settings.allowAdPersonalizationSignals,
        cookie_expires: settings.cookieExpirationInSeconds,
      })
    },
    page: function (ctx) {
      if (settings.pageView !== false) {
        var p = ctx.event.properties || {}
        gtag('event', 'page_view', { page_location: p.url, page_title: p.title, page_referrer: p.referrer })
      }
      return ctx
    },
    track: function (ctx) {
      var e = ctx.event
      var p = e.properties || {}
      var name = EVENTS[e.event] || snake(e.event)
      var params = p.product_id ? { currency: p.currency, value: p.price, items: [item(p)] } : p
      gtag('event', name, params)
      return ctx
    },
    identify: function (ctx) {
      if (ctx.event.userId) gtag('set', { user_id: ctx.event.userId })
      return ctx
    },
  }
})
