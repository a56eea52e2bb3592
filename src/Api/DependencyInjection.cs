using CallNotify.Api.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CallNotify.Api;

public static class DependencyInjection
{
    /// <summary>ASP.NET Core's switch that keeps a lone authentication scheme from becoming the default (since .NET 7).</summary>
    internal const string SuppressAutoDefaultScheme = "Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme";

    /// <summary>HTTP concerns: problem details, the exception handler, admin authentication, forwarded headers, OpenAPI.</summary>
    public static IServiceCollection AddApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();

        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        services.AddSingleton<AdminKeys>();
        // No default scheme: the admin key is the admin API's alone, named by its policy. A default one would run the
        // admin key's handler on every request, each webhook's included, only to find no key (ADR 0034). ASP.NET Core
        // makes a lone registered scheme the default unless this switch is on; it is read when the scheme provider is
        // first built, so it is set before anything resolves it.
        AppContext.SetSwitch(SuppressAutoDefaultScheme, true);
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, AdminKeyAuthenticationHandler>(AdminKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminKeyAuthenticationHandler.Policy, p => p.AddAuthenticationSchemes(AdminKeyAuthenticationHandler.SchemeName).RequireAuthenticatedUser());

        services.AddCallNotifyForwardedHeaders();
        services.AddSingleton<WebSockets.WebSocketSessionLoop>();
        services.AddOptions<Endpoints.ConsoleOptions>().BindConfiguration(Endpoints.ConsoleOptions.Section);
        services.AddOptions<WebhookUrlOptions>().BindConfiguration(WebhookUrlOptions.Section);

        services.AddCallNotifyOpenApi();
        services.AddCallNotifyRateLimits(configuration);

        // Metrics: the service's own meter plus ASP.NET Core's and the runtime's, scraped at /metrics in Prometheus text format.
        // Traces: the webhook (ASP.NET Core), its lookup and record (Npgsql) and each delivery (HttpClient, and the
        // dispatcher's own spans), recorded and exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
        var telemetry = services.AddOpenTelemetry();
        // Of ASP.NET Core's meters only the request and connection ones: AddAspNetCoreInstrumentation() would also
        // subscribe to memory-pool, routing, rate-limiting, authentication and authorization meters, several
        // measurements per request that cost about a tenth of the webhook's CPU before its own work (ADR 0013).
        telemetry.WithMetrics(metrics => metrics
            .AddMeter(Application.Common.Telemetry.CallNotifyMetrics.MeterName, Infrastructure.Persistence.Postgres.StoreMetrics.MeterName)
            .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
            // The .NET runtime's own meter (GC collections and pauses, allocated bytes, thread-pool work items, …):
            // observable instruments only, read at the scrape, so nothing on the request path (ADR 0032).
            .AddMeter("System.Runtime")
            .AddPrometheusExporter());
        // Spans cost on every request, so they are recorded only when something receives them.
        if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(Application.Common.Telemetry.CallNotifyMetrics.MeterName)
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/metrics"))
                .AddHttpClientInstrumentation(o =>
                    // APNs carries the device token in its URL: a span keeps only its last characters.
                    o.EnrichWithHttpRequestMessage = (span, request) =>
                    {
                        if (request.RequestUri is { } uri)
                        {
                            span.SetTag("url.full", Infrastructure.Channels.PushUrls.Redacted(uri));
                        }
                    })
                .AddNpgsql());
            telemetry.UseOtlpExporter();
        }
        services.AddHostedService<Hosting.WebhookWarmUp>();
        services.AddHostedService<Hosting.StoreSweeperService>();
        services.AddHostedService<Hosting.DeliveryTakeoverService>();
        return services;
    }
}
