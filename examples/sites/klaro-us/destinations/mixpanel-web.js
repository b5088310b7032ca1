/*
 * Stand-in for Segment's "Mixpanel Web (actions)" action destination (segmentio/action-destinations,
 * packages/browser-destinations/destinations/mixpanel-web), as served from
 * cdn.segment.com/next-integrations/actions/mixpanel-web/<contenthash>.js.
 * Like the real bundle it defines window['mixpanel-webDestination'], a Segment PluginFactory. On load it
 * injects Mixpanel's library (https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js, the host the real
 * init script uses) and calls mixpanel.init(projectToken, {api_host}); page and track events are
 * forwarded as mixpanel.track(...). Not Segment's code.
 */
import { defineDestination } from '../../../common/destination.js'

defineDestination('mixpanel-web', 'Mixpanel Web (actions)', function (settings) {
  return {
    script: 'https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js',
    onLoad: function () {
      window.mixpanel.init(settings.projectToken, { api_host: settings.apiHost || 'https://api-js.mixpanel.com' })
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
})
