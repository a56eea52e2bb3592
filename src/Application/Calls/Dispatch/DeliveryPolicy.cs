using CallNotify.Domain.Bindings;
using CallNotify.Domain.Notifications;

namespace CallNotify.Application.Calls.Dispatch;

/// <summary>When a delivery that failed for a passing reason is tried again.</summary>
public static class RetrySchedule
{
    private static readonly TimeSpan BackoffBase = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan BackoffCap = TimeSpan.FromSeconds(5);

    /// <summary>Full-jitter exponential backoff (200 ms doubling to 5 s), never sooner than the provider asked.</summary>
    public static TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var ceiling = Math.Min(BackoffCap.TotalMilliseconds, BackoffBase.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 16)));
        var jittered = TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2));
        return retryAfter is { } asked && asked > jittered ? asked : jittered;
    }

    /// <summary>Whether an attempt <paramref name="delay"/> from <paramref name="now"/> still starts within the invite.</summary>
    public static bool FitsInInvite(DateTimeOffset now, TimeSpan delay, DateTimeOffset inviteEndsAt) => now + delay < inviteEndsAt;
}

/// <summary>What one attempt's result means for the binding it went to.</summary>
public enum BindingConsequenceKind
{
    /// <summary>Nothing changes.</summary>
    None,

    /// <summary>The provider said the token is gone: the binding is deactivated with the reason.</summary>
    Deactivate,

    /// <summary>The push was accepted: the binding's last delivery is stamped.</summary>
    StampDelivery,
}

/// <param name="Reason">The inactive reason, for <see cref="BindingConsequenceKind.Deactivate"/>.</param>
public readonly record struct BindingConsequence(BindingConsequenceKind Kind, string? Reason = null)
{
    public static BindingConsequence Of(DeliveryResult result) => result.Kind switch
    {
        DeliveryResultKind.ClientGone => new(BindingConsequenceKind.Deactivate, result.Reason ?? InactiveReasons.Unregistered),
        DeliveryResultKind.Accepted => new(BindingConsequenceKind.StampDelivery),
        _ => new(BindingConsequenceKind.None),
    };
}
