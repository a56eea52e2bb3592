using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CallNotify.Api.Http;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c>: what the service is, its security schemes, and the meaning of every
/// status each endpoint answers. Endpoints declare their answers with <see cref="OpenApiEndpointExtensions.Answers"/> and
/// their credentials with <see cref="OpenApiEndpointExtensions.SecuredBy"/>; the transformers here do the rest.
/// </summary>
public static class OpenApiDescription
{
    public const string AdminKeyScheme = "adminKey";
    public const string WebSocketTokenScheme = "webSocketToken";
    public const string TwilioSignatureScheme = "twilioSignature";
    public const string AccessTokenScheme = "twilioAccessToken";

    private const string Description = """
        CallNotify is the server a team deploys when it turns on Twilio's **Client Call Notification Webhook**. Twilio
        POSTs each incoming-call notification to `POST /calls/notificationWebhook`; CallNotify checks
        `X-Twilio-Signature`, finds every active client of the callee (same Account SID, same identity) and delivers the
        body, unmodified, over the channel each client registered: FCM (Android), APNs VoIP and APNs alert (iOS), or a
        live WebSocket (`GET /v1/websocket`). The app hands it to the Twilio Voice SDK, which raises the call invite.

        The admin API (`/admin/v1`, `Authorization: Bearer <admin key>`) registers push bindings, issues WebSocket
        tokens and shows each notification with its deliveries. Errors are `application/problem+json`; validation
        errors list the fields.

        The contract (endpoints, JSON fields, status codes, configuration keys) is `SPEC.md`, which the repository's
        README links; this document follows it. The README says how to run the service, `docs/decisions/` why it is
        built as it is.
        """;

    /// <summary><c>AddOpenApi</c> with CallNotify's document and operation transformers.</summary>
    public static IServiceCollection AddCallNotifyOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                Describe(document);
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                Describe(operation, context);
                return Task.CompletedTask;
            });
        });

    /// <summary>The build's version: the assembly's informational version (with its <c>+commit</c>, when the build had one).</summary>
    public static string BuildVersion { get; } =
        typeof(OpenApiDescription).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(OpenApiDescription).Assembly.GetName().Version?.ToString()
        ?? "0.0.0";

    private static void Describe(OpenApiDocument document)
    {
        document.Info = new OpenApiInfo { Title = "CallNotify", Version = BuildVersion, Description = Description };

        document.AddComponent(AdminKeyScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An admin API key (`Admin:ApiKeys`) as `Authorization: Bearer <key>`, for every `/admin/v1` endpoint. "
                + "Missing or wrong: 401; more than `RateLimits:AdminPermitsPerMinute` requests a minute from one address: 429.",
        });
        document.AddComponent(WebSocketTokenScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Query,
            Name = "token",
            Description = "A token from `POST /admin/v1/websocket-tokens`, for `GET /v1/websocket`: as `?token=` (browsers cannot "
                + "set headers on a WebSocket request) or as `Authorization: Bearer <token>`. Missing, forged or expired: 401.",
        });
        document.AddComponent(AccessTokenScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "The Twilio Access Token the app already holds for the Voice SDK, as `Authorization: Bearer <token>`: HS256, signed "
                + "with an API key secret configured for its account (`Twilio:Accounts:N:ApiKeys`), with `grants.identity` and "
                + "`grants.voice.incoming.allow`. The account is `sub`, the identity `grants.identity`. Bad: 401; no incoming calls: 403.",
        });
        document.AddComponent(TwilioSignatureScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = "X-Twilio-Signature",
            Description = "Twilio's request signature, for `POST /calls/notificationWebhook`: Base64(HMAC-SHA1(Auth Token, the full "
                + "public URL Twilio called)), with the body's SHA-256 in the URL's `bodySHA256` query parameter; the primary or "
                + "secondary Auth Token of the account in `twi_account_sid`. Wrong, missing, or an account not configured: 403.",
        });

        document.Tags ??= new HashSet<OpenApiTag>();
        document.Tags.Add(new OpenApiTag { Name = "Operations", Description = "Health, readiness and metrics, for the platform running the service." });

        // Health checks and the Prometheus scrape are not route handlers, so ASP.NET Core does not list them itself.
        AddPlainTextGet(document, "/healthz", "Liveness: the process is alive", (200, "The process is alive."));
        AddPlainTextGet(
            document,
            "/readyz",
            "Readiness: the store is reachable and migrated",
            (200, "The store is reachable and every migration is applied."),
            (503, "The store is unreachable, or a migration is not applied yet."));
        AddPlainTextGet(
            document,
            "/metrics",
            "Metrics in Prometheus text format",
            (200, "CallNotify's own meter (webhook answers, deliveries, sessions, latencies) and ASP.NET Core's request and connection metrics."));
    }

    private static void Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        foreach (var secured in metadata.OfType<SecuredByMetadata>())
        {
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(secured.Scheme, context.Document)] = [] });
        }

        var meanings = metadata.OfType<AnswerMetadata>().ToList();
        if (meanings.Count == 0)
        {
            return;
        }

        operation.Responses ??= new OpenApiResponses();
        foreach (var answer in meanings)
        {
            var key = answer.StatusCode.ToString(CultureInfo.InvariantCulture);
            if (!operation.Responses.TryGetValue(key, out var declared) || declared is not OpenApiResponse response)
            {
                response = new OpenApiResponse();
                operation.Responses[key] = response;
            }

            response.Description = answer.Meaning;
            AddHeaders(response, answer.StatusCode);
        }

        // Ascending by status, wherever each was declared (endpoint, group or here).
        var ordered = operation.Responses.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        operation.Responses.Clear();
        foreach (var (key, value) in ordered)
        {
            operation.Responses[key] = value;
        }
    }

    private static void AddHeaders(OpenApiResponse response, int statusCode)
    {
        if (statusCode is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable)
        {
            response.Headers ??= new Dictionary<string, IOpenApiHeader>();
            response.Headers["Retry-After"] = new OpenApiHeader
            {
                Description = "Seconds to wait before retrying.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
            };
        }
        else if (statusCode == StatusCodes.Status201Created)
        {
            response.Headers ??= new Dictionary<string, IOpenApiHeader>();
            response.Headers["Location"] = new OpenApiHeader
            {
                Description = "The URL of what was created.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            };
        }
    }

    private static void AddPlainTextGet(OpenApiDocument document, string path, string summary, params (int Status, string Meaning)[] answers)
    {
        var operation = new OpenApiOperation
        {
            Summary = summary,
            Tags = new HashSet<OpenApiTagReference> { new("Operations", document) },
            Responses = new OpenApiResponses(),
        };
        foreach (var (status, meaning) in answers)
        {
            var response = new OpenApiResponse
            {
                Description = meaning,
                Content = new Dictionary<string, OpenApiMediaType> { ["text/plain"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String } } },
            };
            operation.Responses[status.ToString(CultureInfo.InvariantCulture)] = response;
        }

        document.Paths ??= new OpenApiPaths();
        document.Paths[path] = new OpenApiPathItem { Operations = new Dictionary<HttpMethod, OpenApiOperation> { [HttpMethod.Get] = operation } };
    }
}

/// <summary>What an endpoint declares for the OpenAPI document.</summary>
public static class OpenApiEndpointExtensions
{
    /// <summary>
    /// Documents one status the endpoint can answer and what it means. An error status (400 and up) is
    /// <c>application/problem+json</c> of <paramref name="problem"/> (by default: for 400 a validation problem listing the
    /// fields, else a plain problem); a success takes the body type of the handler's typed result.
    /// </summary>
    public static TBuilder Answers<TBuilder>(this TBuilder builder, int statusCode, string meaning, Type? problem = null)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new AnswerMetadata(statusCode, meaning));
        if (statusCode >= StatusCodes.Status400BadRequest)
        {
            problem ??= statusCode == StatusCodes.Status400BadRequest ? typeof(HttpValidationProblemDetails) : typeof(ProblemDetails);
            builder.WithMetadata(new ProducesResponseTypeMetadata(statusCode, problem, ["application/problem+json"]));
        }

        return builder;
    }

    /// <summary>503 with <c>Retry-After</c>, for an endpoint that needs the store.</summary>
    public static TBuilder AnswersStoreUnavailable<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.Answers(StatusCodes.Status503ServiceUnavailable, "The store is unavailable; retry after `Retry-After` seconds. Nothing was changed.");

    /// <summary>415, for an endpoint that reads a JSON body.</summary>
    public static TBuilder AnswersUnsupportedMediaType<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.Answers(StatusCodes.Status415UnsupportedMediaType, "The body is not sent as `application/json`.");

    /// <summary>The security scheme (see <see cref="OpenApiDescription"/>) the endpoint's callers authenticate with.</summary>
    public static TBuilder SecuredBy<TBuilder>(this TBuilder builder, string scheme)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new SecuredByMetadata(scheme));

    /// <summary>What every admin endpoint shares: the admin key, and the 401 and 429 of its authentication and rate limit.</summary>
    public static RouteGroupBuilder DocumentedAsAdminApi(this RouteGroupBuilder group) => group
        .SecuredBy(OpenApiDescription.AdminKeyScheme)
        .Answers(StatusCodes.Status401Unauthorized, "No admin key, or a wrong one: send `Authorization: Bearer <admin key>`.")
        .Answers(StatusCodes.Status429TooManyRequests, "Too many admin requests from this address (`RateLimits:AdminPermitsPerMinute`); retry after `Retry-After` seconds.");
}

/// <summary>One status an endpoint answers, and its meaning for the OpenAPI document.</summary>
internal sealed record AnswerMetadata(int StatusCode, string Meaning);

/// <summary>The security scheme an endpoint requires, for the OpenAPI document.</summary>
internal sealed record SecuredByMetadata(string Scheme);
