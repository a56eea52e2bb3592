using System.Net;
using CallNotify.Application.Common.Ports;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace CallNotify.Infrastructure.Channels.Fcm;

public static class FcmRegistration
{
    internal const string PipelineName = "fcm";

    /// <summary>One attempt's wait for FCM's answer headers.</summary>
    internal static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Backstop for a whole request, body included.</summary>
    internal static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    internal const double FailureRatio = 0.5;
    internal const int MinimumThroughput = 10;
    internal static readonly TimeSpan SamplingDuration = TimeSpan.FromSeconds(10);
    internal static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Binds and validates <c>Fcm</c> (at start), and registers the FCM channel when <c>Fcm:CredentialsFile</c> is set.
    /// Without it no FCM channel exists and FCM deliveries fail with <c>channel-not-configured</c>.
    /// </summary>
    public static IServiceCollection AddFcmChannel(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(FcmOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<FcmOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FcmOptions>, FcmOptionsValidator>());

        if (string.IsNullOrWhiteSpace(section[nameof(FcmOptions.CredentialsFile)]))
        {
            return services;
        }

        services.TryAddSingleton<IFcmAccessTokenSource, GoogleFcmAccessTokenSource>();
        services.TryAddSingleton<FcmCircuitBreakerState>();

        // No retry strategy here: the dispatcher retries within the invite and records every attempt. The breaker makes
        // a dead FCM fail fast instead of costing every delivery a timeout.
        services.AddHttpClient<FcmChannel>((sp, client) =>
            {
                client.BaseAddress = sp.GetRequiredService<IOptions<FcmOptions>>().Value.EndpointUri();
                client.Timeout = RequestTimeout;
                client.DefaultRequestVersion = HttpVersion.Version20;
                client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
            })
            // The dispatcher is a singleton and keeps its channels: connections are recycled here instead of by the
            // factory's handler rotation.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = AttemptTimeout,
            })
            .AddResilienceHandler(PipelineName, (builder, context) =>
            {
                var circuit = context.ServiceProvider.GetRequiredService<FcmCircuitBreakerState>();
                builder
                    .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                    {
                        // Default ShouldHandle: 5xx, 408, 429, HttpRequestException and attempt timeouts.
                        FailureRatio = FailureRatio,
                        SamplingDuration = SamplingDuration,
                        MinimumThroughput = MinimumThroughput,
                        BreakDuration = BreakDuration,
                        OnOpened = args =>
                        {
                            circuit.Opened(args.BreakDuration);
                            return default;
                        },
                    })
                    .AddTimeout(new HttpTimeoutStrategyOptions { Timeout = AttemptTimeout });
            });

        services.AddTransient<INotificationChannel>(sp => sp.GetRequiredService<FcmChannel>());
        return services;
    }
}

/// <summary>When the FCM circuit closes again, so a delivery refused by the open circuit knows when to try again.</summary>
internal sealed class FcmCircuitBreakerState(TimeProvider time)
{
    private long _openUntilUtcTicks;

    public void Opened(TimeSpan breakDuration) =>
        Interlocked.Exchange(ref _openUntilUtcTicks, (time.GetUtcNow() + breakDuration).UtcTicks);

    /// <summary>What is left of the break, or a whole break when none is known (e.g. while a probe is in flight).</summary>
    public TimeSpan RemainingBreak()
    {
        var remaining = new DateTimeOffset(Interlocked.Read(ref _openUntilUtcTicks), TimeSpan.Zero) - time.GetUtcNow();
        return remaining > TimeSpan.Zero ? remaining : FcmRegistration.BreakDuration;
    }
}
