using System.Diagnostics;
using CallNotify.Api;
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

var builder = WebApplication.CreateBuilder(args);

// 5080 is the default address only: --urls, ASPNETCORE_URLS, Urls or Kestrel endpoints all take precedence.
if (string.IsNullOrEmpty(builder.Configuration["urls"])
    && string.IsNullOrEmpty(builder.Configuration["http_ports"])
    && string.IsNullOrEmpty(builder.Configuration["https_ports"])
    && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
{
    builder.WebHost.UseUrls("http://localhost:5080");
}

builder.Services
    .AddApplication()
    .AddInfrastructure(builder.Configuration, builder.Environment)
    .AddApi(builder.Configuration);
builder.Services.AddMediator((Mediator.MediatorOptions options) =>
{
    options.ServiceLifetime = ServiceLifetime.Scoped;
    options.Assemblies = [typeof(CallNotify.Application.DependencyInjection)];
    options.PipelineBehaviors =
    [
        typeof(UnhandledExceptionBehaviour<,>),
        typeof(ValidationBehaviour<,>),
        typeof(TimingBehaviour<,>),
    ];
});

var app = builder.Build();

// Bad configuration stops the service here, with messages naming the keys.
app.Services.GetRequiredService<IStartupValidator>().Validate();

var migrator = app.Services.GetRequiredService<StoreMigrator>();
if (args.Contains("migrate", StringComparer.Ordinal))
{
    await migrator.MigrateAsync(CancellationToken.None);
    app.Logger.LogInformation("Migrations applied to {Store}", app.Services.GetRequiredService<StoreConnection>().Describe());
    return;
}

if (app.Services.GetRequiredService<IOptions<StorageOptions>>().Value.MigrateOnStartup)
{
    await migrator.MigrateAsync(CancellationToken.None);
}

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

app.MapOpenApi();
if (app.Environment.IsDevelopment())
{
    // The API reference page: /scalar/v1.
    app.MapScalarApiReference();
}

app.MapPrometheusScrapingEndpoint("/metrics");
app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(CallNotify.Infrastructure.DependencyInjection.ReadinessTag) });
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

var channels = app.Services.GetServices<INotificationChannel>().Select(c => c.Kind).ToHashSet();
app.Logger.LogInformation(
    "CallNotify store: {Store}; channels: {Channels}",
    app.Services.GetRequiredService<StoreConnection>().Describe(),
    string.Join(", ", Enum.GetValues<ChannelKind>().Select(k => $"{k.ToWire()} {(channels.Contains(k) ? "on" : "off")}")));

await app.RunAsync();

/// <summary>The entry point, visible to the integration tests' <c>WebApplicationFactory</c>.</summary>
public partial class Program;
