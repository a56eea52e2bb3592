using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Timeout;

namespace CallNotify.Infrastructure.Channels;

/// <summary>
/// The circuit breaker of one push provider (FCM, or APNs per authority), fed only provider-wide evidence so that one
/// failing device never holds back another device's push (issue #15):
/// - transport failures and attempt timeouts;
/// - the provider refusing our credentials (<paramref name="credentialFailure"/>: FCM's 401, APNs' 403 but for an
///   expired provider token, which the sender renews);
/// - 5xx, 408 and 429 answers, but only once they come for <see cref="DistinctDevices"/> or more different devices
///   within the sampling window. One token that keeps failing counts for nothing.
/// An open circuit breaks for <see cref="BreakDuration"/> only, and a push it refuses is told to retry when it
/// half-opens (<see cref="RemainingBreak"/>).
/// </summary>
internal sealed class ProviderCircuit(TimeProvider time, Func<HttpResponseMessage, ValueTask<bool>> credentialFailure)
{
    /// <summary>The device a request is for, set by the channel on each request.</summary>
    public static readonly HttpRequestOptionsKey<string> DeviceKey = new("callnotify.device");

    internal const double FailureRatio = 0.5;
    internal const int MinimumThroughput = 10;
    internal const int DistinctDevices = 3;
    internal static readonly TimeSpan SamplingDuration = TimeSpan.FromSeconds(10);
    internal static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(2);

    /// <summary>The failing devices remembered at most; beyond it the evidence is plainly provider-wide.</summary>
    private const int MaxDevicesTracked = 1024;

    private readonly ConcurrentDictionary<string, long> _failingDevices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _openUntil = new(StringComparer.Ordinal);

    /// <summary>The breaker's options; <paramref name="keyOf"/> names the circuit a request goes through.</summary>
    public HttpCircuitBreakerStrategyOptions Options(Func<ResilienceContext, string> keyOf) => new()
    {
        FailureRatio = FailureRatio,
        SamplingDuration = SamplingDuration,
        MinimumThroughput = MinimumThroughput,
        BreakDuration = BreakDuration,
        ShouldHandle = args => IsProviderWideAsync(args.Outcome),
        OnOpened = args =>
        {
            _openUntil[keyOf(args.Context)] = (time.GetUtcNow() + args.BreakDuration).UtcTicks;
            return default;
        },
    };

    /// <summary>What is left of circuit <paramref name="key"/>'s break, or a whole break when none is known (a probe in flight).</summary>
    public TimeSpan RemainingBreak(string key)
    {
        var remaining = _openUntil.TryGetValue(key, out var ticks)
            ? new DateTimeOffset(ticks, TimeSpan.Zero) - time.GetUtcNow()
            : TimeSpan.Zero;
        return remaining > TimeSpan.Zero ? remaining : BreakDuration;
    }

    internal async ValueTask<bool> IsProviderWideAsync(Outcome<HttpResponseMessage> outcome)
    {
        if (outcome.Exception is not null)
        {
            return outcome.Exception is HttpRequestException or TimeoutRejectedException;
        }

        if (outcome.Result is not { } response)
        {
            return false;
        }

        if (await credentialFailure(response))
        {
            return true;
        }

        var status = (int)response.StatusCode;
        if (status < 500 && response.StatusCode is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests))
        {
            return false;
        }

        return SeveralDevicesFailing(DeviceOf(response.RequestMessage));
    }

    /// <summary>Records this device's failure; true when enough different devices failed lately.</summary>
    private bool SeveralDevicesFailing(string device)
    {
        var now = time.GetUtcNow().UtcTicks;
        _failingDevices[device] = now;
        var since = now - SamplingDuration.Ticks;
        var count = 0;
        foreach (var (key, at) in _failingDevices)
        {
            if (at < since)
            {
                _failingDevices.TryRemove(new KeyValuePair<string, long>(key, at));
            }
            else
            {
                count++;
            }
        }

        if (_failingDevices.Count > MaxDevicesTracked)
        {
            _failingDevices.Clear();
            _failingDevices[device] = now;
            return true;
        }

        return count >= DistinctDevices;
    }

    private static string DeviceOf(HttpRequestMessage? request) =>
        request is null ? string.Empty
        : request.Options.TryGetValue(DeviceKey, out var device) ? device
        : request.RequestUri?.AbsolutePath ?? string.Empty;
}
