/*
 * Stand-in for Segment's "Facebook Conversions Api Web" action destination (segmentio/action-destinations,
 * packages/browser-destinations/destinations/facebook-conversions-api-web), as served from
 * cdn.segment.com/next-integrations/actions/facebook-conversions-api-web/<contenthash>.js.
 * Like the real bundle it defines window['facebook-conversions-api-webDestination'], a Segment
 * PluginFactory. On load it installs Meta's fbq queue (the documented base code), injects
 * https://connect.facebook.net/en_US/fbevents.js and calls fbq('init', pixelId); events are forwarded as
 * fbq('track', ...). Not Segment's code.
 */
import { defineDestination } from '../../../common/destination.js'

function initFbq() {
  if (window.fbq) return
  var n = (window.fbq = function () {
    n.callMethod ? n.callMethod.apply(n, arguments) : n.queue.push(arguments)
  })
  if (!window._fbq) window._fbq = n
  n.push = n
  n.loaded = true
  n.version = '2.0'
  n.queue = []
}
var STANDARD = { 'Product Viewed': 'ViewContent', 'Product Added': 'AddToCart', 'Order Completed': 'Purchase' }

defineDestination('facebook-conversions-api-web', 'Facebook Conversions Api Web', function (settings) {
  return {
    script: 'https://connect.facebook.net/en_US/fbevents.js',
    setUp: initFbq,
    onLoad: function () { window.fbq('init', settings.pixelId) },
    page: function (ctx) {
      window.fbq('track', 'PageView', {}, { eventID: ctx.event.messageId })
      return ctx
    },
    track: function (ctx) {
      var e = ctx.event
      var p = e.properties || {}
      var std = STANDARD[e.event]
      var data = p.product_id
        ? { content_ids: [p.product_id], content_name: p.name, content_type: 'product', value: p.price, currency: p.currency }
        : p
      if (std) window.fbq('track', std, data, { eventID: e.messageId })
      else window.fbq('trackCustom', e.event, data, { eventID: e.messageId })
      return ctx
    },
  }
})
