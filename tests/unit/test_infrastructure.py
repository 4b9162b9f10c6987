"""The prod stack (infrastructure/merge-template.json) is generated from what the code declares:
every table, stream, topic, queue, secret and function the code names is in it, each function
with a policy of only what it declares, and nothing the code does not declare can slip in."""
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infrastructure"))

import build_template  # noqa: E402

from chalicelib.storage.tables import TABLES  # noqa: E402


@pytest.fixture(scope="module")
def template():
    return build_template.template()


@pytest.fixture(scope="module")
def app():
    return build_template.app_registry()


def test_the_committed_merge_template_is_the_generated_one(template):
    committed = json.loads((ROOT / "infrastructure" / "merge-template.json").read_text())
    assert committed == template, "run: .venv/bin/python infrastructure/build_template.py"


def test_every_declared_table_is_on_demand_with_ttl_pitr_its_stream_and_kept_on_delete(template):
    resources = template["Resources"]
    tables = {k for k, r in resources.items() if r.get("Type") == "AWS::DynamoDB::Table"}
    assert tables == {build_template.logical_id(name) for name in TABLES}
    for name, spec in TABLES.items():
        table = resources[build_template.logical_id(name)]
        props = table["Properties"]
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["TableName"] == {"Fn::Sub": f"${{AWS::StackName}}-{name}"}
        assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
        assert [i["IndexName"] for i in props["GlobalSecondaryIndexes"]] == ["gsi1"]
        assert ("StreamSpecification" in props) == spec.stream


def test_every_stream_source_reports_partial_failures_bisects_retries_and_sets_aside_to_a_watched_queue(
        template, app):
    from chalice.app import DynamoDBEventConfig, KinesisEventConfig
    resources = template["Resources"]
    streamed = [s for s in app.event_sources if isinstance(s, (KinesisEventConfig, DynamoDBEventConfig))]
    assert {s.name for s in streamed} >= {"consumeMetrics", "scoreMetrics"}
    for source in streamed:
        fn = build_template.camel(source.name)
        [event] = resources[fn]["Properties"]["Events"].values()
        props = event["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is True
        assert 0 < props["MaximumRetryAttempts"] <= 10 and 60 <= props["MaximumRecordAgeInSeconds"] <= 86400
        queue = props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        assert resources[queue]["Type"] == "AWS::SQS::Queue"
        depth = resources[queue + "Depth"]["Properties"]
        assert depth["MetricName"] == "ApproximateNumberOfMessagesVisible" and depth["Threshold"] == 0
        assert resources[fn + "IteratorAge"]["Properties"]["MetricName"] == "IteratorAge"


def test_every_name_the_code_uses_is_a_resource_of_the_template(template, app):
    """Tables, the Kinesis stream, DynamoDB streams, topics, queues, secrets: the registry test."""
    from chalice.app import DynamoDBEventConfig, KinesisEventConfig, SNSEventConfig, SQSEventConfig

    from chalicelib.aws_access import DECLARED, TOPICS
    resources = template["Resources"]
    for source in app.event_sources:
        if isinstance(source, KinesisEventConfig):
            assert resources["MetricsStream"]["Type"] == "AWS::Kinesis::Stream"
        if isinstance(source, DynamoDBEventConfig):
            table = build_template.stream_table(source.stream_arn)
            assert "StreamSpecification" in resources[build_template.logical_id(table)]["Properties"]
        if isinstance(source, SNSEventConfig):
            topic = build_template.topic_id(build_template.topic_of(app, source.topic))
            assert resources[topic]["Type"] == "AWS::SNS::Topic"
        if isinstance(source, SQSEventConfig):
            assert resources[build_template.queue_id(source.queue)]["Type"] == "AWS::SQS::Queue"
    for key in TOPICS:
        assert resources[build_template.topic_id(key)]["Type"] == "AWS::SNS::Topic"
    for uses in DECLARED.by_function.values():
        for use in uses:
            for secret in use.secrets:
                assert resources[build_template.secret_id(secret)]["Type"] == "AWS::SecretsManager::Secret"
            for table in (*use.reads, *use.writes):
                assert build_template.logical_id(table) in resources
    for function in build_template.functions(app):
        assert build_template.role_id(function) in resources, function


def test_a_stream_of_an_undeclared_table_or_an_unknown_topic_stops_the_build(app):
    with pytest.raises(build_template.UndeclaredUse, match="no table"):
        build_template.stream_table("arn:aws:dynamodb:us-east-1:1:table/mc-deployments/stream/x")
    with pytest.raises(build_template.UndeclaredUse, match="stream=True"):
        build_template.stream_table("arn:aws:dynamodb:us-east-1:1:table/mc-stats/stream/x")
    with pytest.raises(build_template.UndeclaredUse, match="TOPICS"):
        build_template.topic_of(app, "arn:aws:sns:us-east-1:1:ci-builds")


# -- one least-privilege policy per function -----------------------------------------------------
def statements(template, function):
    role = template["Resources"][build_template.role_id(function)]
    [policy] = role["Properties"]["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def refs(resources):
    """The logical ids a statement's resources point at (Fn::GetAtt, Ref, ${Id.Arn} in Fn::Sub)."""
    import re
    found = set()
    for r in resources:
        if "Fn::GetAtt" in r:
            found.add(r["Fn::GetAtt"][0])
        elif "Ref" in r:
            found.add(r["Ref"])
        else:
            found.update(re.findall(r"\$\{(\w+)(?:\.\w+)?\}", r["Fn::Sub"]))
    return found - {"AWS"}


def test_each_function_may_use_only_the_tables_topics_and_actions_it_declares(template, app):
    from chalicelib.aws_access import DECLARED
    for function in build_template.functions(app):
        declared = DECLARED.of(function)
        granted = statements(template, function)
        reads = {t for u in declared for t in u.reads}
        writes = {t for u in declared for t in u.writes}
        assert refs(granted.get("ReadTables", {}).get("Resource", [])) == {build_template.logical_id(t) for t in reads}
        assert refs(granted.get("WriteTables", {}).get("Resource", [])) == {build_template.logical_id(t) for t in writes}
        if "WriteTables" in granted:
            assert "dynamodb:Scan" not in granted["WriteTables"]["Action"]
        publishes = {t for u in declared for t in u.publishes}
        assert refs(granted.get("Publish", {}).get("Resource", [])) == {build_template.topic_id(t) for t in publishes}


def test_no_policy_grants_a_wildcard_action_or_another_stacks_resource(template, app):
    for function in build_template.functions(app):
        for sid, statement in statements(template, function).items():
            assert all("*" not in action for action in statement["Action"]), (function, sid)
            for resource in statement["Resource"]:
                # every resource is this stack's: an attribute or reference of one of its
                # resources, or an ARN in its own account and region
                assert isinstance(resource, dict), (function, sid, resource)
                text = json.dumps(resource)
                assert "arn:aws:" not in text and ":*:" not in text, (function, sid, resource)


def test_the_stream_consumers_read_only_their_own_stream_and_the_rest_read_none(template, app):
    kinds = build_template.functions(app)
    for function, kind in kinds.items():
        granted = statements(template, function)
        assert ("ReadMetricsStream" in granted) == (kind == "kinesis")
        assert ("ReadTableStream" in granted) == (kind == "dynamodb")
    assert refs(statements(template, "scoreMetrics")["ReadTableStream"]["Resource"]) == {"TableMetrics"}
    assert refs(statements(template, "consumeMetrics")["ReadMetricsStream"]["Resource"]) == {"MetricsStream"}


def test_a_function_without_a_declaration_stops_the_build(monkeypatch):
    """What the three features landing now must do: declare, or the template is not built."""
    import copy

    from chalice import Chalice

    from chalicelib.aws_access import API_HANDLER, DECLARED, uses
    monkeypatch.setattr(DECLARED, "by_function", copy.deepcopy(DECLARED.by_function))
    incidents = Chalice(app_name="incidents-probe")

    @incidents.on_cw_event({"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]},
                           name="recordIncidentProbe")
    def record(event):
        return None

    @incidents.route("/api/incidents-probe")
    def list_incidents():
        return {}

    with pytest.raises(build_template.UndeclaredUse, match="recordIncidentProbe") as refused:
        build_template.check_declarations(incidents)
    assert f"routes in {__name__}" in str(refused.value)
    uses(__name__, API_HANDLER, reads=("alerts",))
    uses(__name__, "recordIncidentProbe", reads=("deployments",))
    with pytest.raises(build_template.UndeclaredUse, match="'deployments'.*tables.py"):
        build_template.check_declarations(incidents)


def test_websocket_handlers_are_the_functions_chalice_makes_and_must_be_declared(monkeypatch):
    from chalice import Chalice

    from chalicelib.aws_access import DECLARED
    # as before the live feature declared its handlers
    monkeypatch.setattr(DECLARED, "by_function",
                        {k: v for k, v in DECLARED.by_function.items() if not k.startswith("websocket_")})
    live = Chalice(app_name="live-probe")
    live.experimental_feature_flags.update(["WEBSOCKETS"])

    @live.on_ws_connect()
    def connect(event):
        return None

    @live.on_ws_message()
    def message(event):
        return None

    assert build_template.functions(live) == {"websocket_connect": "websocket", "websocket_message": "websocket"}
    with pytest.raises(build_template.UndeclaredUse, match="websocket_connect, websocket_message"):
        build_template.check_declarations(live)


def test_the_collector_policy_only_puts_records_on_this_stacks_stream(template):
    statements_ = template["Resources"]["CollectorPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    kinesis = [s for s in statements_ if any(a.startswith("kinesis:") for a in s["Action"])]
    assert kinesis == [{"Effect": "Allow", "Action": ["kinesis:PutRecords"],
                        "Resource": [{"Fn::GetAtt": ["MetricsStream", "Arn"]}]}]


# -- the rest of the estate ----------------------------------------------------------------------
def test_deploy_time_values_are_described_parameters_and_no_placeholder_is_left(template):
    params = template["Parameters"]
    for name in ("DomainName", "CertificateArn", "AuthDomainPrefix", "AlertEmail", "GoogleClientId",
                 "OidcIssuerUrl", "SamlMetadataUrl", "MetricsStreamMode"):
        assert len(params[name]["Description"]) > 20, name
    assert "Default" not in params["DomainName"] and "Default" not in params["CertificateArn"]
    assert params["GoogleClientSecret"]["NoEcho"] and params["OidcClientSecret"]["NoEcho"]
    assert "REPLACE-WITH" not in json.dumps(template)
    assert "REPLACE-WITH" not in (ROOT / ".chalice" / "config.json").read_text()


def test_cognito_has_the_three_roles_an_spa_client_with_pkce_and_optional_sso(template):
    resources = template["Resources"]
    groups = {r["Properties"]["GroupName"] for r in resources.values() if r.get("Type") == "AWS::Cognito::UserPoolGroup"}
    assert groups == {"viewer", "operator", "admin"}
    pool = resources["UserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    client = resources["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False and client["AllowedOAuthFlows"] == ["code"]
    assert client["CallbackURLs"] == [{"Fn::Sub": "https://${DomainName}/"}]
    for provider, condition in (("GoogleProvider", "UseGoogle"), ("OidcProvider", "UseOidc"), ("SamlProvider", "UseSaml")):
        assert resources[provider]["Condition"] == condition


def test_cloudfront_serves_the_spa_privately_over_https_with_the_apps_security_headers(template):
    from chalicelib.web import HSTS, html_content_security_policy
    resources = template["Resources"]
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    assert config["HttpVersion"] == "http2and3"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert behaviours["/api/*"]["TargetOriginId"] == "api" and behaviours["/api/*"]["ViewerProtocolPolicy"] == "https-only"
    [site] = [o for o in config["Origins"] if o["Id"] == "site"]
    assert "OriginAccessControlId" in site
    bucket = resources["SiteBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    headers = resources["SiteHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    # the very policy web.py gives the SPA's page, its inline theme script allowed by hash
    built = ROOT / "static-site" / "dist" / "index.html"
    html = (built if built.exists() else ROOT / "static-site" / "index.html").read_text()
    assert csp == html_content_security_policy(html, connect=(
        "https://cognito-idp.${AWS::Region}.amazonaws.com",
        "https://${AuthDomainPrefix}.auth.${AWS::Region}.amazoncognito.com",
        "wss://${WebsocketAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"))  # live updates
    assert f"max-age={headers['StrictTransportSecurity']['AccessControlMaxAgeSec']}" in HSTS


def test_api_gateway_answers_in_the_apps_error_shape_and_never_echoes_a_header(template):
    api = template["Resources"]["RestAPI"]["Properties"]
    [settings] = api["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == 100
    for kind, response in api["GatewayResponses"].items():
        body = json.loads(response["ResponseTemplates"]["application/json"])
        assert set(body["error"]) == {"code", "message", "details"}, kind
        assert "$context" not in response["ResponseTemplates"]["application/json"], kind
    assert api["GatewayResponses"]["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"


def test_the_seeds_alarms_go_to_the_alerts_topic(template, app):
    resources = template["Resources"]
    alarms = {k: r["Properties"] for k, r in resources.items() if r.get("Type") == "AWS::CloudWatch::Alarm"}
    assert alarms["ApiLatency"]["Threshold"] == 1000 and alarms["ApiLatency"]["EvaluationPeriods"] == 5
    assert alarms["RevenueDrop"]["MetricName"] == "RevenueChangePercent" and alarms["RevenueDrop"]["Threshold"] == -20
    for function in build_template.functions(app):
        assert build_template.camel(function) + "Errors" in alarms
    for name in TABLES:
        assert build_template.logical_id(name) + "Throttles" in alarms
    assert all(a["AlarmActions"] == [{"Ref": "AlertsTopic"}] for a in alarms.values())


def test_lambda_is_arm64_sized_per_function_with_30_day_logs():
    prod = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]
    assert prod["lambda_architecture"] == "arm64" and prod["log_retention_in_days"] == 30
    assert prod["api_gateway_endpoint_type"] == "REGIONAL"
    sized = prod["lambda_functions"]
    assert (sized["aggregateStats"]["lambda_memory_size"], sized["aggregateStats"]["lambda_timeout"]) == (512, 60)
    assert (sized["scoreMetrics"]["lambda_memory_size"], sized["scoreMetrics"]["lambda_timeout"]) == (1024, 60)
    assert sized["scoreMetrics"]["reserved_concurrency"] == 50
    assert (prod["lambda_memory_size"], prod["lambda_timeout"]) == (256, 10)  # the API handler: reads


def test_the_revenue_change_is_published_as_an_embedded_metric_on_lambda(monkeypatch, capsys):
    from chalicelib.observability import METRICS_NAMESPACE, publish_business_metric
    publish_business_metric("RevenueChangePercent", -25.0, "Percent")
    assert capsys.readouterr().out == ""  # off Lambda: nothing
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "mc-DailyRollup-x")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "mission-control")
    publish_business_metric("RevenueChangePercent", -25.0, "Percent")
    emf = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    [directive] = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == METRICS_NAMESPACE == build_template.REVENUE_METRIC["Namespace"]
    assert emf["RevenueChangePercent"] == [-25.0] or emf["RevenueChangePercent"] == -25.0
    assert emf["service"] == "mission-control"
