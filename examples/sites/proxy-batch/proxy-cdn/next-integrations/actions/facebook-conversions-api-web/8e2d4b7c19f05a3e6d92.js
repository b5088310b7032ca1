/*
 * Stand-in for Segment's "Facebook Conversions Api Web" action destination (segmentio/action-destinations,
 * packages/browser-destinations/destinations/facebook-conversions-api-web), as served from
 * cdn.segment.com/next-integrations/actions/facebook-conversions-api-web/<contenthash>.js.
 * Like the real bundle it defines window['facebook-conversions-api-webDestination'], a Segment
 * PluginFactory. On load it installs Meta's fbq queue (the documented base code), injects
 * https://connect.facebook.net/en_US/fbevents.js and calls fbq('init', pixelId); events are forwarded as
 * fbq('track', ...). Not Segment's code.
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

  window['facebook-conversions-api-webDestination'] = function (settings) {
    var loaded = false
    var plugin = {
      name: 'Facebook Conversions Api Web',
      type: 'destination',
      version: '0.0.0-standin',
      isLoaded: function () { return loaded },
      load: function (ctx) {
        initFbq()
        return loadScript('https://connect.facebook.net/en_US/fbevents.js').then(function () {
          window.fbq('init', settings.pixelId)
          loaded = true
          return ctx
        })
      },
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
    return [plugin]
  }
})()
