using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace CallNotify.Api.Http;

/// <summary>Per-client-IP limits (ASP.NET Core's limiter). Signed webhook traffic is never throttled.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";
    public const string AdminPolicy = "admin";
    public const string WebSocketPolicy = "websocket";

    /// <summary>Admin API requests per client IP per minute (generous: a backend registers hundreds a second).</summary>
    public int AdminPermitsPerMinute { get; set; } = 60_000;

    /// <summary>WebSocket upgrades per client IP per minute.</summary>
    public int WebSocketUpgradesPerMinute { get; set; } = 600;

    /// <summary>Webhook requests failing the signature check, per client IP per minute; beyond it they get 429.</summary>
    public int FailedSignaturesPerMinute { get; set; } = 60;

    /// <summary>
    /// Admin requests failing authentication (no key, or a wrong one), per client IP per minute; beyond it every admin
    /// request from that client gets 429 before any key is compared.
    /// </summary>
    public int FailedAdminAuthPerMinute { get; set; } = 30;

    /// <summary>Client-endpoint requests (Access Token callers, SPEC §6a) per identity and per client IP per minute.</summary>
    public int ClientPermitsPerMinute { get; set; } = 600;
}

internal sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var failures = new List<string>();
        if (options.AdminPermitsPerMinute < 1)
        {
            failures.Add($"{RateLimitOptions.Section}:AdminPermitsPerMinute must be at least 1.");
        }

        if (options.WebSocketUpgradesPerMinute < 1)
        {
            failures.Add($"{RateLimitOptions.Section}:WebSocketUpgradesPerMinute must be at least 1.");
        }

        if (options.FailedSignaturesPerMinute < 1)
        {
            failures.Add($"{RateLimitOptions.Section}:FailedSignaturesPerMinute must be at least 1.");
        }

        if (options.FailedAdminAuthPerMinute < 1)
        {
            failures.Add($"{RateLimitOptions.Section}:FailedAdminAuthPerMinute must be at least 1.");
        }

        if (options.ClientPermitsPerMinute < 1)
        {
            failures.Add($"{RateLimitOptions.Section}:ClientPermitsPerMinute must be at least 1.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// Counts admin requests that failed authentication, per client IP (the address <c>ForwardedHeaders</c> settles on).
/// A client with none left is refused before its key is compared, so guessing costs the service nothing.
/// </summary>
public sealed class FailedAdminAuthLimiter(IOptions<RateLimitOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = ClientLimits.PerClientPerMinute(options.Value.FailedAdminAuthPerMinute);

    /// <summary>Null while the client may still try; else how long until it may (answer 429 with it).</summary>
    public TimeSpan? Refusal(HttpContext context)
    {
        // Asking for no permit takes none: it only says whether any is left.
        using var probe = _limiter.AttemptAcquire(ClientLimits.ClientIp(context), 0);
        if (probe.IsAcquired)
        {
            return null;
        }

        return probe.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
    }

    public void CountFailure(HttpContext context)
    {
        using var lease = _limiter.AttemptAcquire(ClientLimits.ClientIp(context));
    }

    public void Dispose() => _limiter.Dispose();
}

/// <summary>Counts webhook requests that failed the signature check, per client IP.</summary>
public sealed class FailedSignatureLimiter(IOptions<RateLimitOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = ClientLimits.PerClientPerMinute(options.Value.FailedSignaturesPerMinute);

    /// <summary>True while the client still has failures to spend; false means answer 429.</summary>
    public bool TryCountFailure(HttpContext context)
    {
        using var lease = _limiter.AttemptAcquire(ClientLimits.ClientIp(context));
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();

}

/// <summary>
/// The client endpoints' limit (<see cref="RateLimitOptions.ClientPermitsPerMinute"/>): every request counts against its
/// address, before its token is checked, and an authenticated one against its identity too.
/// </summary>
public sealed class ClientRequestLimiter(IOptions<RateLimitOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _byAddress = ClientLimits.PerClientPerMinute(options.Value.ClientPermitsPerMinute);
    private readonly PartitionedRateLimiter<string> _byIdentity = ClientLimits.PerClientPerMinute(options.Value.ClientPermitsPerMinute);

    /// <summary>Null when the request may go on; else how long until it may (answer 429 with it).</summary>
    public TimeSpan? TakeForAddress(HttpContext context) => Take(_byAddress, ClientLimits.ClientIp(context));

    /// <summary>Null when the request may go on; else how long until it may.</summary>
    public TimeSpan? TakeForIdentity(string accountSid, string identity) => Take(_byIdentity, accountSid + "/" + identity);

    private static TimeSpan? Take(PartitionedRateLimiter<string> limiter, string key)
    {
        using var lease = limiter.AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
    }

    public void Dispose()
    {
        _byAddress.Dispose();
        _byIdentity.Dispose();
    }
}

/// <summary>What every per-client limit is made of: the client's address, and a fixed one-minute window without a queue.</summary>
internal static class ClientLimits
{
    /// <summary>The client as <c>ForwardedHeaders</c> settled it.</summary>
    public static string ClientIp(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>A count of <paramref name="permits"/> a minute per client address.</summary>
    public static PartitionedRateLimiter<string> PerClientPerMinute(int permits) =>
        PartitionedRateLimiter.Create<string, string>(ip => RateLimitPartition.GetFixedWindowLimiter(ip, _ => Window(permits)));

    public static FixedWindowRateLimiterOptions Window(int permits) =>
        new() { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 };
}

public static class RateLimitRegistration
{
    public static IServiceCollection AddCallNotifyRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        services.AddSingleton<FailedSignatureLimiter>();
        services.AddSingleton<FailedAdminAuthLimiter>();
        services.AddSingleton<ClientRequestLimiter>();
        var limits = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(RateLimitOptions.AdminPolicy, context => PerIp(context, Math.Max(1, limits.AdminPermitsPerMinute)));
            limiter.AddPolicy(RateLimitOptions.WebSocketPolicy, context => PerIp(context, Math.Max(1, limits.WebSocketUpgradesPerMinute)));
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                rejected.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await rejected.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = rejected.HttpContext,
                    ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests; slow down." },
                });
            };
        });
        return services;
    }

    private static RateLimitPartition<string> PerIp(HttpContext context, int permitsPerMinute) =>
        RateLimitPartition.GetFixedWindowLimiter(ClientLimits.ClientIp(context), _ => ClientLimits.Window(permitsPerMinute));
}
