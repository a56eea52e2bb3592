namespace CallNotify.Application.Common.Options;

public sealed class DispatchOptions
{
    public const string Section = "Dispatch";

    /// <summary>How long a call notification is worth delivering.</summary>
    public int InviteTtlSeconds { get; set; } = 30;

    /// <summary>The most the webhook waits for a first accepted delivery before answering 503.</summary>
    public int ResponseDeadlineMilliseconds { get; set; } = 3000;

    public TimeSpan InviteTtl => TimeSpan.FromSeconds(InviteTtlSeconds);

    public TimeSpan ResponseDeadline => TimeSpan.FromMilliseconds(ResponseDeadlineMilliseconds);
}

public sealed class BindingOptions
{
    public const string Section = "Bindings";

    /// <summary>Active bindings kept per (account, identity); the least recently refreshed beyond it are deactivated.</summary>
    public int MaxPerIdentity { get; set; } = 20;

    /// <summary>A binding not refreshed for this long expires.</summary>
    public int TtlDays { get; set; } = 365;

    public TimeSpan Ttl => TimeSpan.FromDays(TtlDays);
}

public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Notification records older than this are purged.</summary>
    public int NotificationDays { get; set; } = 7;

    /// <summary>
    /// How long the outcome of each message id is remembered (no body): a replay within it rings nobody. At least
    /// <see cref="NotificationDays"/>.
    /// </summary>
    public int MessageIdDays { get; set; } = 30;

    /// <summary>How often the sweeper runs.</summary>
    public int SweepIntervalSeconds { get; set; } = 300;

    /// <summary>Rows changed per batch: a sweep never holds long transactions.</summary>
    public int BatchSize { get; set; } = 500;

    public TimeSpan SweepInterval => TimeSpan.FromSeconds(SweepIntervalSeconds);
}

/// <summary>What the webhook may spend waiting on the store (SPEC §2, <c>Storage:WebhookBudgetMilliseconds</c>).</summary>
public sealed class StoreBudgetOptions
{
    public const string Section = "Storage";

    /// <summary>The most one webhook waits on the store in all (lookup, record, replay reads); past it, 503.</summary>
    public int WebhookBudgetMilliseconds { get; set; } = 4000;

    public TimeSpan WebhookBudget => TimeSpan.FromMilliseconds(WebhookBudgetMilliseconds);
}
