using System.Diagnostics;
using CallNotify.Api.Endpoints;
using CallNotify.Api.Http;
using CallNotify.Application;
using CallNotify.Application.Common.Behaviours;
using CallNotify.Application.Common.Ports;
using CallNotify.Application.Common.Telemetry;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure;
using CallNotify.Infrastructure.Configuration;
using CallNotify.Infrastructure.Persistence;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace CallNotify.Api.Hosting;

/// <summary>
/// The composition root, in the order <c>Program.cs</c> reads: the one place that knows every layer, Infrastructure
/// included. Each step is a named extension so that <c>Program.cs</c> stays a table of contents.
/// </summary>
public static class ServiceComposition
{
    /// <summary>5080 is the default address only: <c>--urls</c>, <c>ASPNETCORE_URLS</c>, <c>Urls</c> or Kestrel endpoints take precedence.</summary>
    public static WebApplicationBuilder UseDefaultAddress(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration["urls"])
            && string.IsNullOrEmpty(builder.Configuration["http_ports"])
            && string.IsNullOrEmpty(builder.Configuration["https_ports"])
            && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls("http://localhost:5080");
        }

        return builder;
    }

    /// <summary>Every layer's services, and the mediator with its pipeline (the source generator runs in this project).</summary>
    public static WebApplicationBuilder AddCallNotify(this WebApplicationBuilder builder)
    {
        builder.Services
            .AddApplication()
            .AddInfrastructure(builder.Configuration, builder.Environment)
            .AddApi(builder.Configuration);
        builder.Services.AddMediator((Mediator.MediatorOptions options) =>
        {
            options.ServiceLifetime = ServiceLifetime.Scoped;
            options.Assemblies = [typeof(Application.DependencyInjection)];
            options.PipelineBehaviors =
            [
                typeof(UnhandledExceptionBehaviour<,>),
                typeof(ValidationBehaviour<,>),
                typeof(TimingBehaviour<,>),
            ];
        });
        return builder;
    }

    /// <summary>
    /// Validates the options (bad configuration stops the service here, naming the keys) and migrates the store when
    /// asked to. True when the service should stop now: <c>migrate</c> on the command line applies the migrations only.
    /// </summary>
    public static async Task<bool> PrepareAsync(this WebApplication app, string[] args)
    {
        app.Services.GetRequiredService<IStartupValidator>().Validate();
        var migrator = app.Services.GetRequiredService<StoreMigrator>();
        if (args.Contains("migrate", StringComparer.Ordinal))
        {
            await migrator.MigrateAsync(CancellationToken.None);
            app.Logger.LogInformation("Migrations applied to {Store}", app.Services.GetRequiredService<StoreConnection>().Describe());
            return true;
        }

        if (app.Services.GetRequiredService<IOptions<StorageOptions>>().Value.MigrateOnStartup)
        {
            await migrator.MigrateAsync(CancellationToken.None);
        }

        return false;
    }

    /// <summary>The request pipeline, outermost first.</summary>
    public static WebApplication UseCallNotifyPipeline(this WebApplication app)
    {
        app.UseForwardedHeaders();

        // Webhook answers by status and latency, measured outside the exception handler so its 503s count too.
        var metrics = app.Services.GetRequiredService<CallNotifyMetrics>();
        app.UseWhen(
            context => context.Request.Path.Equals(TwilioWebhook.Path, StringComparison.Ordinal),
            branch => branch.Use(async (context, next) =>
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await next(context);
                }
                finally
                {
                    metrics.WebhookAnswered(context.Response.StatusCode, Stopwatch.GetElapsedTime(started));
                }
            }));
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseWebSockets(new WebSocketOptions
        {
            KeepAliveInterval = TimeSpan.FromSeconds(15),
            KeepAliveTimeout = TimeSpan.FromSeconds(30),
        });
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    /// <summary>Every endpoint: operations, the webhook, the clients', the console and the admin API.</summary>
    public static WebApplication MapCallNotifyEndpoints(this WebApplication app)
    {
        app.MapOpenApi();
        if (app.Environment.IsDevelopment())
        {
            // The API reference page: /scalar/v1.
            app.MapScalarApiReference();
        }

        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(Infrastructure.DependencyInjection.ReadinessTag) });
        app.MapTwilioWebhook();
        app.MapWebSocketClients();
        app.MapClientEndpoints();
        app.MapOperatorConsole();
        app.MapGroup("/admin/v1")
            .RequireAuthorization(AdminKeyAuthenticationHandler.Policy)
            .RequireRateLimiting(RateLimitOptions.AdminPolicy)
            .DocumentedAsAdminApi()
            .MapBindings()
            .MapWebSocketTokens()
            .MapNotifications()
            .MapOperations();
        return app;
    }

    /// <summary>One line saying which store and channels are active.</summary>
    public static WebApplication LogWhatIsActive(this WebApplication app)
    {
        var channels = app.Services.GetServices<INotificationChannel>().Select(c => c.Kind).ToHashSet();
        app.Logger.LogInformation(
            "CallNotify store: {Store}; channels: {Channels}",
            app.Services.GetRequiredService<StoreConnection>().Describe(),
            string.Join(", ", Enum.GetValues<ChannelKind>().Select(k => $"{k.ToWire()} {(channels.Contains(k) ? "on" : "off")}")));
        return app;
    }
}
