/*
 * Stand-in for Segment's "TikTok Pixel" action destination (segmentio/action-destinations,
 * packages/browser-destinations/destinations/tiktok-pixel), as served from
 * cdn.segment.com/next-integrations/actions/tiktok-pixel/<contenthash>.js.
 * Like the real bundle it defines window['tiktok-pixelDestination'], a Segment PluginFactory. On load it
 * installs TikTok's documented ttq queue, injects https://analytics.tiktok.com/i18n/pixel/events.js and
 * calls ttq.load(pixelCode); page events become ttq.page(), track events ttq.track(...).
 * Not Segment's code.
 */
;(function () {
  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement('script')
      s.async = true
      s.src = src
      s.onload = function () { resolve(s) }
      s.onerror = function () { reject(new Error('Failed to load ' + src)) }
      document.head.appendChild(s)
    })
  }
  function initTtq() {
    if (window.ttq) return
    var ttq = (window.ttq = [])
    ttq.methods = ['page', 'track', 'identify', 'load']
    ttq.methods.forEach(function (m) {
      ttq[m] = function () { ttq.push([m].concat(Array.prototype.slice.call(arguments))) }
    })
  }
  var STANDARD = { 'Trail Saved': 'AddToWishlist', 'Order Completed': 'CompletePayment' }

  window['tiktok-pixelDestination'] = function (settings) {
    var loaded = false
    var plugin = {
      name: 'TikTok Pixel',
      type: 'destination',
      version: '0.0.0-standin',
      isLoaded: function () { return loaded },
      load: function (ctx) {
        initTtq()
        window.ttq.load(settings.pixelCode)
        return loadScript('https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=' + encodeURIComponent(settings.pixelCode)).then(function () {
          loaded = true
          return ctx
        })
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
    return [plugin]
  }
})()
