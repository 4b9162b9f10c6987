"""Mission Control: wiring only. Each feature brings its routes and event handlers as a
Chalice blueprint; nothing here knows which storage engine runs."""
import os

from chalice import Chalice

from chalicelib.business.routes import business_api
from chalicelib.business.schedules import business_jobs
from chalicelib.metrics.routes import metrics_api
from chalicelib.system.routes import system_api

app = Chalice(app_name="mission-control")
app.register_blueprint(system_api)
app.register_blueprint(business_api)
app.register_blueprint(business_jobs)
app.register_blueprint(metrics_api)

if os.environ.get("SPA_DIR"):  # the local runtime serves the SPA; on AWS S3 + CloudFront do
    from chalicelib.local.static_site import static_site
    app.register_blueprint(static_site)
