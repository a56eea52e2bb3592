using CallNotify.Domain.Common;

namespace CallNotify.Domain.Bindings;

/// <summary>
/// One app install that wants call notifications for (account, identity) over one push channel.
/// A (channel, address) pair belongs to one binding: the latest registration wins.
/// </summary>
public sealed class Binding
{
    public const int MaxAppIdLength = 255;

    /// <summary>An app (bundle) id: 1 to <see cref="MaxAppIdLength"/> characters, none of them a control character.</summary>
    public static bool IsValidAppId(string appId) =>
        appId.Length is > 0 and <= MaxAppIdLength && !appId.Any(char.IsControl);

    // For EF Core.
    private Binding()
    {
        Id = string.Empty;
        AccountSid = string.Empty;
        Identity = string.Empty;
        Address = string.Empty;
    }

    public string Id { get; private set; }

    public string AccountSid { get; private set; }

    public string Identity { get; private set; }

    public ChannelKind Channel { get; private set; }

    public string Address { get; private set; }

    public ApnsEnvironment Environment { get; private set; }

    public string? AppId { get; private set; }

    public BindingStatus Status { get; private set; }

    public string? InactiveReason { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public DateTimeOffset UpdatedAt { get; private set; }

    public DateTimeOffset ExpiresAt { get; private set; }

    public DateTimeOffset? LastDeliveryAt { get; private set; }

    /// <summary>Rebuilds a binding exactly as stored, for a store that does not materialise entities itself.</summary>
    public static Binding Restore(
        string id,
        string accountSid,
        string identity,
        ChannelKind channel,
        string address,
        ApnsEnvironment environment,
        string? appId,
        BindingStatus status,
        string? inactiveReason,
        DateTimeOffset createdAt,
        DateTimeOffset updatedAt,
        DateTimeOffset expiresAt,
        DateTimeOffset? lastDeliveryAt) => new()
    {
        Id = id,
        AccountSid = accountSid,
        Identity = identity,
        Channel = channel,
        Address = address,
        Environment = environment,
        AppId = appId,
        Status = status,
        InactiveReason = inactiveReason,
        CreatedAt = createdAt,
        UpdatedAt = updatedAt,
        ExpiresAt = expiresAt,
        LastDeliveryAt = lastDeliveryAt,
    };

    public bool IsUsableAt(DateTimeOffset now) => Status == BindingStatus.Active && ExpiresAt > now;

    /// <summary>
    /// Whether a call for (<paramref name="accountSid"/>, <paramref name="identity"/>) may be pushed to this binding at
    /// <paramref name="now"/>: it is usable and still that callee's (a (channel, address) registered again may have moved
    /// to another identity or account).
    /// </summary>
    public bool ServesCalleeAt(string accountSid, string identity, DateTimeOffset now) =>
        IsUsableAt(now) && AccountSid == accountSid && Identity == identity;

    public static Binding Register(
        AccountSid accountSid,
        ClientIdentity identity,
        ChannelKind channel,
        PushAddress address,
        ApnsEnvironment environment,
        string? appId,
        DateTimeOffset now,
        TimeSpan ttl)
    {
        if (!channel.IsPush())
        {
            throw new DomainException("channel", "A binding is for a push channel: 'fcm', 'apns-voip' or 'apns'.");
        }

        EnsureTtl(ttl);
        var binding = new Binding
        {
            Id = Ids.New(Ids.BindingPrefix, now),
            Channel = channel,
            Address = address.Value,
            CreatedAt = now,
        };
        binding.Apply(accountSid, identity, environment, appId, now, ttl);
        return binding;
    }

    /// <summary>
    /// The same (channel, address) registered again: it may have moved to another identity or account; it is
    /// active again and its TTL starts over.
    /// </summary>
    public void Reregister(
        AccountSid accountSid,
        ClientIdentity identity,
        ApnsEnvironment environment,
        string? appId,
        DateTimeOffset now,
        TimeSpan ttl)
    {
        EnsureTtl(ttl);
        Apply(accountSid, identity, environment, appId, now, ttl);
    }

    /// <summary>Stops using the binding, with the reason shown to operators. Deactivating twice keeps the first reason.</summary>
    public bool Deactivate(string reason, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (Status == BindingStatus.Inactive)
        {
            return false;
        }

        Status = BindingStatus.Inactive;
        InactiveReason = reason;
        UpdatedAt = now;
        return true;
    }

    public void RecordDelivery(DateTimeOffset now) => LastDeliveryAt = now;

    private void Apply(
        AccountSid accountSid,
        ClientIdentity identity,
        ApnsEnvironment environment,
        string? appId,
        DateTimeOffset now,
        TimeSpan ttl)
    {
        if (appId is not null && !IsValidAppId(appId))
        {
            throw new DomainException("appId", $"An app id is 1 to {MaxAppIdLength} characters without control characters.");
        }

        AccountSid = accountSid.Value;
        Identity = identity.Value;
        Environment = Channel.IsApns() ? environment : ApnsEnvironment.Production;
        AppId = Channel.IsApns() ? appId : null;
        Status = BindingStatus.Active;
        InactiveReason = null;
        UpdatedAt = now;
        ExpiresAt = now + ttl;
    }

    private static void EnsureTtl(TimeSpan ttl)
    {
        if (ttl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "A binding's TTL is positive.");
        }
    }
}
