/*
 * Stand-in for Segment's "TikTok Pixel" action destination (segmentio/action-destinations,
 * packages/browser-destinations/destinations/tiktok-pixel), as served from
 * cdn.segment.com/next-integrations/actions/tiktok-pixel/<contenthash>.js.
 * Like the real bundle it defines window['tiktok-pixelDestination'], a Segment PluginFactory. On load it
 * installs TikTok's documented ttq queue, injects https://analytics.tiktok.com/i18n/pixel/events.js and
 * calls ttq.load(pixelCode); page events become ttq.page(), track events ttq.track(...).
 * Not Segment's code.
 */
import { defineDestination } from '../../../common/destination.js'

function initTtq() {
  if (window.ttq) return
  var ttq = (window.ttq = [])
  ttq.methods = ['page', 'track', 'identify', 'load']
  ttq.methods.forEach(function (m) {
    ttq[m] = function () { ttq.push([m].concat(Array.prototype.slice.call(arguments))) }
  })
}
var STANDARD = { 'Trail Saved': 'AddToWishlist', 'Order Completed': 'CompletePayment' }

defineDestination('tiktok-pixel', 'TikTok Pixel', function (settings) {
  return {
    script: 'https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=' + encodeURIComponent(settings.pixelCode),
    setUp: function () {
      initTtq()
      window.ttq.load(settings.pixelCode)
    },
    page: function (ctx) {
      window.ttq.page()
      return ctx
    },
    track: function (ctx) {
      var e = ctx.event
      window.ttq.track(STANDARD[e.event] || e.event, e.properties || {}, { event_id: e.messageId })
      return ctx
    },
  }
})
