"""Writes infrastructure/merge-template.json: everything `chalice package --merge-template` adds
to the prod stage's CloudFormation, generated from what the code declares:

- tables from chalicelib/storage/tables.py (TABLES);
- stream sources, SNS subscribers, schedules, EventBridge rules, SQS consumers and WebSocket
  handlers from the app's own registry (``app.event_sources``, ``app.websocket_handlers``);
- each function's IAM policy from its ``uses(...)`` declarations (chalicelib/aws_access.py);
- topics from ``aws_access.TOPICS``, secrets from the declarations.

A function without a declaration, or a declaration naming a table, topic or stream the code
does not declare, stops the build with a message saying what to add where (see
infrastructure/README.md).

    .venv/bin/python infrastructure/build_template.py        (rewrites the file)
    infrastructure/deploy.sh                                  (what `make deploy` runs)
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: stream sources: retries before a batch is set aside, oldest record still worth processing
STREAM_RETRIES = 5
STREAM_MAX_RECORD_AGE_S = 6 * 3600
#: seed 000: API Gateway throttling 100 requests/s (burst: two seconds' worth)
API_RATE_PER_S, API_BURST = 100, 200
LOG_RETENTION_DAYS = 30
#: the revenue-drop alarm (seed 000: -20 % vs yesterday), on the metric aggregateStats publishes
REVENUE_METRIC = {"Namespace": "MissionControl", "MetricName": "RevenueChangePercent"}
REVENUE_DROP_PERCENT = -20
#: CloudFront's managed policies (fixed ids, documented by AWS)
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
#: actions by what a declaration says
READ_ACTIONS = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"]
WRITE_ACTIONS = ["dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
                 "dynamodb:PutItem", "dynamodb:UpdateItem"]
DYNAMODB_STREAM_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                           "dynamodb:ListStreams"]
KINESIS_READ_ACTIONS = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
                        "kinesis:GetShardIterator", "kinesis:ListShards"]
SQS_CONSUME_ACTIONS = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                       "sqs:ReceiveMessage"]
WEBSOCKET_HANDLERS = ("websocket_connect", "websocket_message", "websocket_disconnect")


class UndeclaredUse(Exception):
    """The code uses something the template cannot know of; the message says what to declare."""


def camel(name: str) -> str:
    """Chalice's logical id for a function name (``evaluateAlerts`` -> ``EvaluateAlerts``; the
    API handler is ``APIHandler``)."""
    from chalice.utils import to_cfn_resource_name

    from chalicelib.aws_access import API_HANDLER
    return "APIHandler" if name == API_HANDLER else to_cfn_resource_name(name)


def role_id(name: str) -> str:
    """Chalice's logical id for a function's role (``ApiHandlerRole`` for the API handler)."""
    from chalice.utils import to_cfn_resource_name
    return to_cfn_resource_name(name) + "Role"


def logical_id(table: str) -> str:
    return "Table" + "".join(part.capitalize() for part in table.split("_"))


def topic_id(key: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_]", key)) + "Topic"


def secret_id(name: str) -> str:
    return "Secret" + "".join(p.capitalize() for p in re.split(r"[^A-Za-z0-9]+", name) if p)


def sub(text: str) -> dict:
    return {"Fn::Sub": text}


def arn(service: str, resource: str) -> dict:
    return sub(f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")


def table_arn(table: str) -> dict:
    return {"Fn::GetAtt": [logical_id(table), "Arn"]}


def app_registry():
    """The app's registry: its routes, event sources and WebSocket handlers (the same on every
    stage; with SPA_DIR or DEV_ISSUER set, the local-only routes would stop the build)."""
    from app import app
    return app


# -- what each function uses --------------------------------------------------------------------
def functions(app) -> dict[str, str]:
    """Every Lambda function Chalice makes for the app: name -> what it is."""
    from chalice.app import (CloudWatchEventConfig, DynamoDBEventConfig, KinesisEventConfig,
                             ScheduledEventConfig, SNSEventConfig, SQSEventConfig)
    from chalicelib.aws_access import API_HANDLER
    kinds = {ScheduledEventConfig: "schedule", SNSEventConfig: "sns", KinesisEventConfig: "kinesis",
             DynamoDBEventConfig: "dynamodb", SQSEventConfig: "sqs", CloudWatchEventConfig: "rule"}
    found = {s.name: kinds.get(type(s), type(s).__name__) for s in app.event_sources}
    if app.routes:
        found[API_HANDLER] = "api"
    for route_key in app.websocket_handlers:  # '$connect', '$disconnect', any other: 'message'
        found[{"$connect": "websocket_connect", "$disconnect": "websocket_disconnect"}.get(
            route_key, "websocket_message")] = "websocket"
    return found


def check_declarations(app) -> None:
    """Every function, and every module that adds routes, declares what it uses."""
    from chalicelib.aws_access import API_HANDLER, DECLARED, TOPICS
    from chalicelib.storage.tables import TABLES
    missing = [name for name in functions(app) if not DECLARED.of(name)]
    route_modules = {entry.view_function.__module__ for methods in app.routes.values()
                     for entry in methods.values()}
    missing += [f"{API_HANDLER} (routes in {module})" for module in sorted(route_modules)
                if module not in DECLARED.modules(API_HANDLER)]
    if missing:
        raise UndeclaredUse(
            "no `uses(__name__, ...)` declaration for: " + ", ".join(missing)
            + " - declare beside the handler what it reads, writes, publishes (chalicelib/aws_access.py)")
    for name, declared in DECLARED.by_function.items():
        for use in declared:
            for table in (*use.reads, *use.writes):
                if table not in TABLES:
                    raise UndeclaredUse(f"{use.module} declares table {table!r} for {name}; "
                                        "declare it in chalicelib/storage/tables.py")
            for topic in (*use.publishes, *use.subscribes):
                if topic not in TOPICS:
                    raise UndeclaredUse(f"{use.module} declares topic {topic!r} for {name}; "
                                        "add it to chalicelib/aws_access.TOPICS")


def stream_table(stream_arn: str) -> str:
    """The logical table a DynamoDB stream handler reads: the one whose physical name (any
    prefix) the ARN names. The table must be declared with ``stream=True``."""
    from chalicelib.storage.tables import TABLES
    match = re.search(r":table/([^/]+)/stream/", stream_arn)
    name = match.group(1) if match else ""
    found = [t for t, spec in TABLES.items() if name.endswith(t)]
    if not found:
        raise UndeclaredUse(f"the stream {stream_arn!r} is of no table in chalicelib/storage/tables.py")
    table = max(found, key=len)
    if not TABLES[table].stream:
        raise UndeclaredUse(f"a handler reads the stream of table {table!r}: declare it stream=True")
    return table


def topic_of(app, topic: str) -> str:
    """The TOPICS key of an SNS subscription's topic name or ARN."""
    from chalicelib.aws_access import TOPICS
    from chalicelib.alerts.settings import alert_settings
    defaults = {"alerts": alert_settings().ALERTS_TOPIC}
    name = topic.rsplit(":", 1)[-1]
    for key in TOPICS:
        if name in (key, defaults.get(key)) or name.endswith("-" + key):
            return key
    raise UndeclaredUse(f"a handler subscribes to SNS topic {topic!r}: add it to chalicelib/aws_access.TOPICS")


def policy(app, function: str, kind: str, source: Any) -> dict:
    """The one IAM policy of ``function``: its declarations, its event source, its logs."""
    from chalicelib.aws_access import DECLARED
    declared = DECLARED.of(function)
    reads = sorted({t for u in declared for t in u.reads})
    writes = sorted({t for u in declared for t in u.writes})
    statements: list[dict] = []

    def tables(names: list[str]) -> list:
        return [r for t in names for r in (table_arn(t), sub(f"${{{logical_id(t)}.Arn}}/index/*"))]

    if reads:
        statements.append({"Sid": "ReadTables", "Effect": "Allow", "Action": READ_ACTIONS,
                           "Resource": tables(reads)})
    if writes:
        statements.append({"Sid": "WriteTables", "Effect": "Allow", "Action": WRITE_ACTIONS,
                           "Resource": [table_arn(t) for t in writes]})
    publishes = sorted({t for u in declared for t in u.publishes})
    subscribes = sorted({t for u in declared for t in u.subscribes})
    if publishes:
        statements.append({"Sid": "Publish", "Effect": "Allow", "Action": ["sns:Publish"],
                           "Resource": [{"Ref": topic_id(t)} for t in publishes]})
    if subscribes:
        statements.append({"Sid": "Subscribe", "Effect": "Allow",
                           "Action": ["sns:Subscribe", "sns:Unsubscribe"],
                           "Resource": [{"Ref": topic_id(t)} for t in subscribes]})
    secrets = sorted({s for u in declared for s in u.secrets})
    if secrets:
        statements.append({"Sid": "Secrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                           "Resource": [{"Ref": secret_id(s)} for s in secrets]})
    if any(u.manages_connections for u in declared):
        statements.append({"Sid": "WebSocketClients", "Effect": "Allow",
                           "Action": ["execute-api:ManageConnections"],
                           "Resource": [sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:"
                                            "${AWS::AccountId}:${WebsocketAPI}/*")]})
    if kind == "kinesis":
        statements.append({"Sid": "ReadMetricsStream", "Effect": "Allow", "Action": KINESIS_READ_ACTIONS,
                           "Resource": [{"Fn::GetAtt": ["MetricsStream", "Arn"]}]})
    if kind == "dynamodb":
        table = stream_table(source.stream_arn)
        statements.append({"Sid": "ReadTableStream", "Effect": "Allow", "Action": DYNAMODB_STREAM_ACTIONS,
                           "Resource": [{"Fn::GetAtt": [logical_id(table), "StreamArn"]}]})
    if kind in ("kinesis", "dynamodb"):
        statements.append({"Sid": "SetAsideFailedBatches", "Effect": "Allow", "Action": ["sqs:SendMessage"],
                           "Resource": [{"Fn::GetAtt": [camel(function) + "FailureQueue", "Arn"]}]})
    if kind == "sqs":
        statements.append({"Sid": "ConsumeQueue", "Effect": "Allow", "Action": SQS_CONSUME_ACTIONS,
                           "Resource": [{"Fn::GetAtt": [queue_id(source.queue), "Arn"]}]})
    # The function's own log group: Lambda names it /aws/lambda/<function name>, and CloudFormation
    # names the function <stack>-<logical id>-<suffix> (whole while that fits Lambda's 64
    # characters: keep stack names to 30). Not the LogGroup resource's ARN: that names the
    # function, whose role this is - a cycle.
    statements.append({"Sid": "OwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                       "Resource": [arn("logs", f"log-group:/aws/lambda/${{AWS::StackName}}-{camel(function)}-*:*")]})
    return {"Version": "2012-10-17", "Statement": statements}


def queue_id(queue: str) -> str:
    return "".join(p.capitalize() for p in re.split(r"[^A-Za-z0-9]+", queue) if p) + "Queue"


# -- the template -------------------------------------------------------------------------------
def parameters() -> dict:
    text = lambda description, **kw: {"Type": "String", "Description": description, **kw}  # noqa: E731
    secret = lambda description: text(description, Default="", NoEcho=True)  # noqa: E731
    return {
        "DomainName": text("The dashboard's domain, e.g. dashboard.example.com: CloudFront serves "
                           "the SPA and the API (/api/*) there; Cognito's callback and sign-out "
                           "URLs are https://<it>/. Point a DNS CNAME/alias at the DistributionDomain "
                           "output.", AllowedPattern=r"^[a-z0-9.-]+\.[a-z]{2,}$",
                           ConstraintDescription="a lowercase host name such as dashboard.example.com"),
        "CertificateArn": text("ACM certificate for DomainName, issued in us-east-1 (CloudFront "
                               "only takes certificates from there).",
                               AllowedPattern=r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/.+$",
                               ConstraintDescription="an ACM certificate ARN in us-east-1"),
        "AuthDomainPrefix": text("Prefix of the Cognito hosted sign-in domain "
                                 "(https://<prefix>.auth.<region>.amazoncognito.com); globally unique.",
                                 AllowedPattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
                                 ConstraintDescription="lowercase letters, digits and hyphens"),
        "AlertEmail": text("Address subscribed to the alerts topic (CloudWatch alarms and alert "
                           "notifications); empty: none. The person confirms by email.", Default=""),
        "GoogleClientId": text("Google Workspace sign-in: OAuth client id; empty: Google off.", Default=""),
        "GoogleClientSecret": secret("Google Workspace sign-in: OAuth client secret."),
        "OidcIssuerUrl": text("OIDC sign-in (e.g. Okta): issuer URL; empty: OIDC off.", Default=""),
        "OidcClientId": text("OIDC sign-in: client id.", Default=""),
        "OidcClientSecret": secret("OIDC sign-in: client secret."),
        "SamlMetadataUrl": text("SAML 2.0 sign-in: the identity provider's metadata URL; empty: SAML off.",
                                Default=""),
        "MetricsStreamMode": text("PROVISIONED (MetricsStreamShards shards, seed 004: 1) or ON_DEMAND.",
                                  Default="PROVISIONED", AllowedValues=["PROVISIONED", "ON_DEMAND"]),
        "MetricsStreamShards": {"Type": "Number", "Default": 1, "MinValue": 1, "MaxValue": 50,
                                "Description": "Shards of the metrics stream when PROVISIONED "
                                               "(1 shard: 1,000 records/s, 1 MiB/s in)."},
    }


def conditions() -> dict:
    not_empty = lambda p: {"Fn::Not": [{"Fn::Equals": [{"Ref": p}, ""]}]}  # noqa: E731
    return {"HasAlertEmail": not_empty("AlertEmail"), "UseGoogle": not_empty("GoogleClientId"),
            "UseOidc": not_empty("OidcIssuerUrl"), "UseSaml": not_empty("SamlMetadataUrl"),
            "ProvisionedStream": {"Fn::Equals": [{"Ref": "MetricsStreamMode"}, "PROVISIONED"]}}


def table(name: str, stream: bool) -> dict:
    props = {
        "TableName": sub(f"${{AWS::StackName}}-{name}"),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"}
                                 for a in ("pk", "sk", "gsi1pk", "gsi1sk")],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": "gsi1",
            "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"},
                          {"AttributeName": "gsi1sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}],
        "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    if stream:
        props["StreamSpecification"] = {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": props}


def alarm(description: str, metric: dict, threshold: float, *, periods: int = 1, period_s: int = 300,
          statistic: str = "Sum", comparison: str = "GreaterThanThreshold") -> dict:
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmDescription": description, **metric, "Statistic": statistic, "Period": period_s,
        "EvaluationPeriods": periods, "Threshold": threshold, "ComparisonOperator": comparison,
        "TreatMissingData": "notBreaching", "AlarmActions": [{"Ref": "AlertsTopic"}],
        "OKActions": [{"Ref": "AlertsTopic"}]}}


def environment() -> dict:
    """What every function reads from the stack (no placeholders: each is a resource or a
    parameter of this stack)."""
    from chalicelib.aws_access import TOPICS
    env: dict[str, Any] = {
        "TABLE_PREFIX": sub("${AWS::StackName}-"),
        "METRICS_STREAM": {"Ref": "MetricsStream"},
        "INSIGHTS_METRICS_STREAM_ARN": {"Fn::GetAtt": ["TableMetrics", "StreamArn"]},
        "AUTH_ISSUER": sub("https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"),
        "AUTH_CLIENT_ID": {"Ref": "UserPoolClient"},
        "AUTH_TOKEN_USE": "access",
        "CORS_ORIGINS": sub("https://${DomainName}"),
        "DASHBOARD_URL": sub("https://${DomainName}"),
        "NOTIFY_VIA": "sns",
        "SECRETS_PREFIX": sub("${AWS::StackName}/"),  # each declared secret is <stack>/<name>
    }
    for key, (name_var, arn_var) in TOPICS.items():
        env[name_var] = {"Fn::GetAtt": [topic_id(key), "TopicName"]}
        env[arn_var] = {"Ref": topic_id(key)}
    return env


def spa_content_security_policy() -> dict:
    """web.py's policy for the SPA's index.html (its inline theme script by hash), fetching
    from this origin and Cognito (token endpoint, discovery)."""
    from chalicelib.web import html_content_security_policy
    html = (ROOT / "static-site" / "index.html").read_text()
    policy = html_content_security_policy(html, connect=(
        "https://cognito-idp.${AWS::Region}.amazonaws.com",
        "https://${AuthDomainPrefix}.auth.${AWS::Region}.amazoncognito.com",
        "wss://${WebsocketAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"))  # live updates
    return sub(policy)


def site_resources() -> dict:
    from chalicelib.web import HSTS
    max_age = int(re.search(r"max-age=(\d+)", HSTS).group(1))
    api_origin = sub("${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}")
    api_behaviour = {"TargetOriginId": "api", "ViewerProtocolPolicy": "https-only",
                     "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                     "CachePolicyId": {"Ref": "ApiCachePolicy"},
                     "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST, "Compress": True}
    headers = {"SecurityHeadersConfig": {
        "ContentSecurityPolicy": {"ContentSecurityPolicy": spa_content_security_policy(), "Override": True},
        "ContentTypeOptions": {"Override": True},
        "FrameOptions": {"FrameOption": "DENY", "Override": True},
        "ReferrerPolicy": {"ReferrerPolicy": "no-referrer", "Override": True},
        "StrictTransportSecurity": {"AccessControlMaxAgeSec": max_age, "IncludeSubdomains": True,
                                    "Override": True}}}
    return {
        "SiteBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                       "Properties": {
                           "PublicAccessBlockConfiguration": {k: True for k in (
                               "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")},
                           "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                               {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                           "VersioningConfiguration": {"Status": "Enabled"},
                           "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                           "LifecycleConfiguration": {"Rules": [{"Id": "old-versions", "Status": "Enabled",
                                                                 "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]}}},
        "SiteBucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "SiteBucket"},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "CloudFrontReadsTheSite", "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
                "Resource": sub("${SiteBucket.Arn}/*"),
                "Condition": {"StringEquals": {"AWS:SourceArn": sub(
                    "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}")}}}]}}},
        "SiteOriginAccessControl": {"Type": "AWS::CloudFront::OriginAccessControl", "Properties": {
            "OriginAccessControlConfig": {"Name": sub("${AWS::StackName}-site"), "OriginAccessControlOriginType": "s3",
                                          "SigningBehavior": "always", "SigningProtocol": "sigv4"}}},
        # Not cached (TTL 0 unless the API says otherwise), but the credentials are part of the
        # key, which is also how CloudFront forwards the Authorization header.
        "ApiCachePolicy": {"Type": "AWS::CloudFront::CachePolicy", "Properties": {"CachePolicyConfig": {
            "Name": sub("${AWS::StackName}-api"), "MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 1,
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": True,
                "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": ["Authorization", "X-Api-Key"]},
                "QueryStringsConfig": {"QueryStringBehavior": "all"},
                "CookiesConfig": {"CookieBehavior": "none"}}}}},
        "SiteHeaders": {"Type": "AWS::CloudFront::ResponseHeadersPolicy", "Properties": {
            "ResponseHeadersPolicyConfig": {"Name": sub("${AWS::StackName}-site"), **headers}}},
        # SPA fallback: a path with no file extension is a client-side route -> /index.html.
        # (Not CustomErrorResponses: those would also turn the API's own 403/404 into HTML.)
        "SpaFallback": {"Type": "AWS::CloudFront::Function", "Properties": {
            "Name": sub("${AWS::StackName}-spa-fallback"), "AutoPublish": True,
            "FunctionConfig": {"Comment": "client-side routes get index.html", "Runtime": "cloudfront-js-2.0"},
            "FunctionCode": ("function handler(event) {\n  var request = event.request;\n"
                             "  if (request.uri.indexOf('.') === -1) { request.uri = '/index.html'; }\n"
                             "  return request;\n}\n")}},
        "Distribution": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {
            "Enabled": True, "Comment": sub("${AWS::StackName} dashboard"), "HttpVersion": "http2and3",
            "IPV6Enabled": True, "PriceClass": "PriceClass_100", "DefaultRootObject": "index.html",
            "Aliases": [{"Ref": "DomainName"}],
            "ViewerCertificate": {"AcmCertificateArn": {"Ref": "CertificateArn"}, "SslSupportMethod": "sni-only",
                                  "MinimumProtocolVersion": "TLSv1.2_2021"},
            "Origins": [
                {"Id": "site", "DomainName": {"Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]},
                 "OriginAccessControlId": {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]},
                 "S3OriginConfig": {"OriginAccessIdentity": ""}},
                {"Id": "api", "DomainName": api_origin, "OriginPath": "/api",
                 "CustomOriginConfig": {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]}}],
            "DefaultCacheBehavior": {
                "TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https", "Compress": True,
                # index.html and config.json are uploaded with Cache-Control: no-cache
                "CachePolicyId": CACHING_DISABLED, "ResponseHeadersPolicyId": {"Ref": "SiteHeaders"},
                "FunctionAssociations": [{"EventType": "viewer-request",
                                          "FunctionARN": {"Fn::GetAtt": ["SpaFallback", "FunctionARN"]}}]},
            "CacheBehaviors": [
                {"PathPattern": "/assets/*", "TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                 "Compress": True, "CachePolicyId": CACHING_OPTIMIZED,  # hashed names, a year immutable
                 "ResponseHeadersPolicyId": {"Ref": "SiteHeaders"}},
                {"PathPattern": "/api/*", **api_behaviour},
                {"PathPattern": "/webhooks/*", **api_behaviour}]}}},
    }


def cognito_resources() -> dict:
    idp = lambda condition, name, kind, details, mapping: {  # noqa: E731
        "Type": "AWS::Cognito::UserPoolIdentityProvider", "Condition": condition, "Properties": {
            "UserPoolId": {"Ref": "UserPool"}, "ProviderName": name, "ProviderType": kind,
            "ProviderDetails": details, "AttributeMapping": mapping}}
    resources = {
        "UserPool": {"Type": "AWS::Cognito::UserPool", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                     "Properties": {
                         "UserPoolName": sub("${AWS::StackName}-users"),
                         # seed 000: no self sign-up; people come through SSO or an admin invite
                         "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
                         "UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"],
                         "Policies": {"PasswordPolicy": {"MinimumLength": 12, "RequireLowercase": True,
                                                         "RequireUppercase": True, "RequireNumbers": True,
                                                         "RequireSymbols": False}},
                         "MfaConfiguration": "OPTIONAL",
                         "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
                         "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]}}},
        "UserPoolDomain": {"Type": "AWS::Cognito::UserPoolDomain", "Properties": {
            "UserPoolId": {"Ref": "UserPool"}, "Domain": {"Ref": "AuthDomainPrefix"}}},
        "GoogleProvider": idp("UseGoogle", "Google", "Google", {
            "client_id": {"Ref": "GoogleClientId"}, "client_secret": {"Ref": "GoogleClientSecret"},
            "authorize_scopes": "openid email profile"}, {"email": "email", "name": "name"}),
        "OidcProvider": idp("UseOidc", "OIDC", "OIDC", {
            "client_id": {"Ref": "OidcClientId"}, "client_secret": {"Ref": "OidcClientSecret"},
            "oidc_issuer": {"Ref": "OidcIssuerUrl"}, "attributes_request_method": "GET",
            "authorize_scopes": "openid email profile"}, {"email": "email", "name": "name"}),
        "SamlProvider": idp("UseSaml", "SAML", "SAML", {"MetadataURL": {"Ref": "SamlMetadataUrl"}},
                            {"email": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"}),
        "UserPoolClient": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {
            "UserPoolId": {"Ref": "UserPool"}, "ClientName": sub("${AWS::StackName}-spa"),
            "GenerateSecret": False,  # a browser keeps no secret: code flow with PKCE
            "AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "profile", "email"],
            "CallbackURLs": [sub("https://${DomainName}/")], "LogoutURLs": [sub("https://${DomainName}/")],
            "SupportedIdentityProviders": [
                "COGNITO",
                {"Fn::If": ["UseGoogle", {"Ref": "GoogleProvider"}, {"Ref": "AWS::NoValue"}]},
                {"Fn::If": ["UseOidc", {"Ref": "OidcProvider"}, {"Ref": "AWS::NoValue"}]},
                {"Fn::If": ["UseSaml", {"Ref": "SamlProvider"}, {"Ref": "AWS::NoValue"}]}],
            "PreventUserExistenceErrors": "ENABLED", "EnableTokenRevocation": True,
            "AccessTokenValidity": 60, "IdTokenValidity": 60, "RefreshTokenValidity": 30,
            "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"}}},
    }
    for group, precedence in (("admin", 1), ("operator", 2), ("viewer", 3)):
        resources[f"{group.capitalize()}Group"] = {"Type": "AWS::Cognito::UserPoolGroup", "Properties": {
            "UserPoolId": {"Ref": "UserPool"}, "GroupName": group, "Precedence": precedence,
            "Description": f"Mission Control role: {group}"}}
    return resources


def api_gateway_responses() -> dict:
    """API Gateway's own answers in the app's one error shape (the default for a missing route
    echoes the Authorization header back)."""
    from chalicelib.web import INTERNAL_MESSAGE, STATUS_CODES

    def shaped(status: int, message: str) -> dict:
        body = json.dumps({"error": {"code": STATUS_CODES[status], "message": message, "details": []}})
        return {"StatusCode": str(status), "ResponseTemplates": {"application/json": body},
                "ResponseParameters": {"Headers": {"Content-Type": "'application/json'",
                                                   "X-Content-Type-Options": "'nosniff'"}}}
    return {
        "MISSING_AUTHENTICATION_TOKEN": shaped(404, "no such route"),
        "UNAUTHORIZED": shaped(401, "sign in or send an API key"),
        "ACCESS_DENIED": shaped(403, "not allowed"),
        "THROTTLED": shaped(429, "too many requests; retry later"),
        "REQUEST_TOO_LARGE": shaped(413, "the request body is too large"),
        "DEFAULT_4XX": shaped(400, "the request was refused"),
        "DEFAULT_5XX": shaped(500, INTERNAL_MESSAGE),
    }


def template() -> dict:
    from chalice.app import DynamoDBEventConfig, KinesisEventConfig, SNSEventConfig, SQSEventConfig

    from chalicelib.aws_access import DECLARED, TOPICS
    from chalicelib.storage.tables import TABLES
    app = app_registry()
    check_declarations(app)
    resources: dict = {logical_id(name): table(name, spec.stream) for name, spec in TABLES.items()}
    resources["MetricsStream"] = {"Type": "AWS::Kinesis::Stream", "Properties": {
        "Name": sub("${AWS::StackName}-metrics"),
        "StreamModeDetails": {"StreamMode": {"Ref": "MetricsStreamMode"}},
        "ShardCount": {"Fn::If": ["ProvisionedStream", {"Ref": "MetricsStreamShards"}, {"Ref": "AWS::NoValue"}]},
        "RetentionPeriodHours": 24, "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}}}
    # What a collector host is given (instance profile or user): put records, nothing else.
    resources["CollectorPolicy"] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
        "Description": "Mission Control collectors: write samples to the metrics stream",
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kinesis:PutRecords"],
             "Resource": [{"Fn::GetAtt": ["MetricsStream", "Arn"]}]},
            # the stream is encrypted with the AWS-managed key: writers need to use it via Kinesis
            {"Effect": "Allow", "Action": ["kms:GenerateDataKey"],
             "Resource": [arn("kms", "alias/aws/kinesis")]}]}}}
    for key in TOPICS:
        # No SSE on the topic: CloudWatch alarms cannot publish to one encrypted with the
        # AWS-managed key (aws/sns), and a customer key costs $1/month for notification text.
        resources[topic_id(key)] = {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": sub(f"${{AWS::StackName}}-{key}"), "DisplayName": "Mission Control " + key}}
    resources["AlertEmailSubscription"] = {"Type": "AWS::SNS::Subscription", "Condition": "HasAlertEmail",
                                           "Properties": {"TopicArn": {"Ref": "AlertsTopic"}, "Protocol": "email",
                                                          "Endpoint": {"Ref": "AlertEmail"}}}
    for secret in sorted({s for uses in DECLARED.by_function.values() for u in uses for s in u.secrets}):
        resources[secret_id(secret)] = {"Type": "AWS::SecretsManager::Secret", "Properties": {
            "Name": sub(f"${{AWS::StackName}}/{secret}"),
            "Description": f"{secret}: set its value with `aws secretsmanager put-secret-value` (README)"}}
    env = environment()
    sources = {s.name: s for s in app.event_sources}
    for function, kind in functions(app).items():
        fn = camel(function)
        props: dict = {"Environment": {"Variables": env}}
        resources[fn] = {"Properties": props}
        source = sources.get(function)
        if kind in ("kinesis", "dynamodb"):
            event = fn + ("KinesisEventSource" if kind == "kinesis" else "DynamodbEventSource")
            # Fn::Sub, as Chalice writes it: the merge replaces the value instead of adding a key
            stream = (sub("${MetricsStream.Arn}") if isinstance(source, KinesisEventConfig)
                      else sub(f"${{{logical_id(stream_table(source.stream_arn))}.StreamArn}}"))
            queue = fn + "FailureQueue"
            props["Events"] = {event: {"Properties": {
                "Stream": stream, "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": STREAM_RETRIES,
                "MaximumRecordAgeInSeconds": STREAM_MAX_RECORD_AGE_S,
                "DestinationConfig": {"OnFailure": {"Type": "SQS",
                                                    "Destination": {"Fn::GetAtt": [queue, "Arn"]}}}}}}
            resources[queue] = {"Type": "AWS::SQS::Queue", "Properties": {
                "MessageRetentionPeriod": 14 * 86400, "SqsManagedSseEnabled": True}}
            resources[queue + "Depth"] = alarm(
                f"{function}: a batch failed past its retries (details in the queue)",
                {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                 "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]},
                0, statistic="Maximum", period_s=60)
            resources[fn + "IteratorAge"] = alarm(
                f"{function} is more than a minute behind its stream",
                {"Namespace": "AWS/Lambda", "MetricName": "IteratorAge",
                 "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": fn}}]},
                60_000, statistic="Maximum", period_s=60, periods=5)
        elif isinstance(source, SNSEventConfig):
            props["Events"] = {fn + "SnsSubscription": {"Properties": {
                "Topic": sub("${" + topic_id(topic_of(app, source.topic)) + "}")}}}
        elif isinstance(source, SQSEventConfig):
            resources[queue_id(source.queue)] = {"Type": "AWS::SQS::Queue", "Properties": {
                "QueueName": sub(f"${{AWS::StackName}}-{source.queue}"), "SqsManagedSseEnabled": True}}
            props["Events"] = {fn + "SqsEventSource": {"Properties": {
                "Queue": {"Fn::GetAtt": [queue_id(source.queue), "Arn"]}}}}
        resources[role_id(function)] = {"Properties": {"Policies": [{
            "PolicyName": fn + "Policy", "PolicyDocument": policy(app, function, kind, source)}]}}
        resources[fn + "Errors"] = alarm(
            f"{function}: more than 5 errors in 5 minutes",
            {"Namespace": "AWS/Lambda", "MetricName": "Errors",
             "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": fn}}]}, 5)
    # Chalice names the API handler's log group after "ApiHandler", a resource that does not exist.
    resources["ApiHandlerLogGroup"] = {"Properties": {"LogGroupName": sub("/aws/lambda/${APIHandler}")}}
    resources["RestAPI"] = {"Properties": {
        "Name": sub("${AWS::StackName}-api"),
        "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": API_RATE_PER_S,
                            # no MetricsEnabled: per-method metrics are billed as custom metrics
                            "ThrottlingBurstLimit": API_BURST}],
        "GatewayResponses": api_gateway_responses()}}
    resources["ApiLatency"] = alarm(
        "API latency above 1 s for 5 minutes (seed 000)",
        {"Namespace": "AWS/ApiGateway", "MetricName": "Latency",
         "Dimensions": [{"Name": "ApiName", "Value": sub("${AWS::StackName}-api")}]},
        1000, statistic="Average", period_s=60, periods=5)
    for name in TABLES:
        resources[logical_id(name) + "Throttles"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmDescription": f"DynamoDB throttled requests on {name}",
            "Metrics": [
                {"Id": "throttles", "Expression": "reads + writes", "ReturnData": True},
                *({"Id": key, "ReturnData": False, "MetricStat": {"Stat": "Sum", "Period": 300, "Metric": {
                    "Namespace": "AWS/DynamoDB", "MetricName": metric,
                    "Dimensions": [{"Name": "TableName", "Value": {"Ref": logical_id(name)}}]}}}
                  for key, metric in (("reads", "ReadThrottleEvents"), ("writes", "WriteThrottleEvents")))],
            "EvaluationPeriods": 1, "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching", "AlarmActions": [{"Ref": "AlertsTopic"}]}}
    resources["RevenueDrop"] = alarm(
        "Revenue today is 20 % or more below yesterday's (DailyStats change, published by aggregateStats)",
        {**REVENUE_METRIC, "Dimensions": [{"Name": "service", "Value": "mission-control"}]},
        REVENUE_DROP_PERCENT, statistic="Minimum", period_s=300, comparison="LessThanOrEqualToThreshold")
    resources.update(site_resources())
    resources.update(cognito_resources())
    outputs = {
        "DistributionId": {"Value": {"Ref": "Distribution"}},
        "DistributionDomain": {"Value": {"Fn::GetAtt": ["Distribution", "DomainName"]},
                               "Description": "point DomainName's DNS record here"},
        "DashboardUrl": {"Value": sub("https://${DomainName}/")},
        "SiteBucketName": {"Value": {"Ref": "SiteBucket"}},
        "UserPoolId": {"Value": {"Ref": "UserPool"}},
        "UserPoolClientId": {"Value": {"Ref": "UserPoolClient"}},
        "AuthIssuer": {"Value": env["AUTH_ISSUER"]},
        "AuthDomain": {"Value": sub("https://${AuthDomainPrefix}.auth.${AWS::Region}.amazoncognito.com")},
        "MetricsStreamName": {"Value": {"Ref": "MetricsStream"}},
        "CollectorPolicyArn": {"Value": {"Ref": "CollectorPolicy"}},
        "AlertsTopicArn": {"Value": {"Ref": "AlertsTopic"}},
    }
    return {"Parameters": parameters(), "Conditions": conditions(), "Resources": resources, "Outputs": outputs}


if __name__ == "__main__":
    out = ROOT / "infrastructure" / "merge-template.json"
    out.write_text(json.dumps(template(), indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
