/*
 * Stand-in for Segment's "Mixpanel Web (actions)" action destination (segmentio/action-destinations,
 * packages/browser-destinations/destinations/mixpanel-web), as served from
 * cdn.segment.com/next-integrations/actions/mixpanel-web/<contenthash>.js.
 * Like the real bundle it defines window['mixpanel-webDestination'], a Segment PluginFactory. On load it
 * injects Mixpanel's library (https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js, the host the real
 * init script uses) and calls mixpanel.init(projectToken, {api_host}); page and track events are
 * forwarded as mixpanel.track(...). Not Segment's code.
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

  window['mixpanel-webDestination'] = function (settings) {
    var loaded = false
    var plugin = {
      name: 'Mixpanel Web (actions)',
      type: 'destination',
      version: '0.0.0-standin',
      isLoaded: function () { return loaded },
      load: function (ctx) {
        return loadScript('https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js').then(function () {
          window.mixpanel.init(settings.projectToken, { api_host: settings.apiHost || 'https://api-js.mixpanel.com' })
          loaded = true
          return ctx
        })
      },
      page: function (ctx) {
        var p = ctx.event.properties || {}
        window.mixpanel.track('$mp_web_page_view', { current_page_title: p.title, current_url_path: p.path })
        return ctx
      },
      track: function (ctx) {
        window.mixpanel.track(ctx.event.event, ctx.event.properties || {})
        return ctx
      },
      identify: function (ctx) {
        if (ctx.event.userId) window.mixpanel.identify(ctx.event.userId)
        return ctx
      },
    }
    return [plugin]
  }
})()
