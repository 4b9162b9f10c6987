"""Mission Control: wiring only. Each feature brings its routes and event handlers as a
Chalice blueprint; nothing here knows which storage engine runs. Every route passes one access
check (chalicelib/auth) that reads the rule declared next to it."""
import os

from chalice import Chalice

from chalicelib.alerts.handlers import alert_jobs
from chalicelib.alerts.routes import alerts_api
from chalicelib.auth import access, gate
from chalicelib.auth.middleware import access_check
from chalicelib.auth.routes import auth_api
from chalicelib.business.routes import business_api
from chalicelib.business.schedules import business_jobs
from chalicelib.ci.routes import ci_api, ci_jobs
from chalicelib.config import auth_settings
from chalicelib.incidents.routes import incidents_api
from chalicelib.insights.routes import insights_api
from chalicelib.live.handlers import live_api, ws_connect, ws_disconnect, ws_message
from chalicelib.metrics.routes import metrics_api
from chalicelib.observability import configure_logging
from chalicelib.system.routes import system_api
from chalicelib.system.schedules import system_jobs
from chalicelib.timeline.routes import timeline_api
from chalicelib.web import add_preflight_routes, http_edge

configure_logging()
app = Chalice(app_name="mission-control")
app.experimental_feature_flags.update(["WEBSOCKETS"])
app.register_blueprint(system_api)
app.register_blueprint(auth_api)
app.register_blueprint(business_api)
app.register_blueprint(business_jobs)
app.register_blueprint(metrics_api)
app.register_blueprint(insights_api)
app.register_blueprint(system_jobs)
app.register_blueprint(alerts_api)
app.register_blueprint(alert_jobs)
app.register_blueprint(incidents_api)
app.register_blueprint(timeline_api)
app.register_blueprint(ci_api)
app.register_blueprint(ci_jobs)
app.register_blueprint(live_api)
# On the app, not the blueprint: only then does Chalice wrap them; Lambda calls them by these names.
ws_connect = app.on_ws_connect(name="liveConnect")(ws_connect)
ws_message = app.on_ws_message(name="liveMessage")(ws_message)
ws_disconnect = app.on_ws_disconnect(name="liveDisconnect")(ws_disconnect)

if auth_settings().dev_issuer:  # the local runner's OIDC issuer; refused outside the dev stage
    from chalicelib.local.dev_issuer import dev_issuer_routes
    app.register_blueprint(dev_issuer_routes())

if os.environ.get("SPA_DIR"):  # the local runtime serves the SPA; on AWS S3 + CloudFront do
    from chalicelib.local import static_site
    for view in (static_site.index, static_site.asset, static_site.spa_config, static_site.top_level_file):
        access.public(view)  # static files: the SPA itself signs in
    app.register_blueprint(static_site.static_site)

# Outermost first: CORS and security headers wrap every answer, the access check's included.
app.register_middleware(http_edge(app, lambda: gate().config), "http")
app.register_middleware(access_check(app), "http")
add_preflight_routes(app)  # last: every route above gets its CORS preflight
