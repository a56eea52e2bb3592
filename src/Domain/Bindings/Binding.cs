using System.Linq.Expressions;
using System.Runtime.CompilerServices;
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
        Text.IsStorable(appId, MaxAppIdLength);

    // For EF Core.
    private Binding()
    {
        Id = string.Empty;
    }

    public string Id { get; private set; }

    public AccountSid AccountSid { get; private set; }

    public ClientIdentity Identity { get; private set; }

    public ChannelKind Channel { get; private set; }

    public PushAddress Address { get; private set; }

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
        AccountSid accountSid,
        ClientIdentity identity,
        ChannelKind channel,
        PushAddress address,
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

    /// <summary>
    /// The one rule of a binding a call for (account, identity) is pushed to at a given time: active, not expired, and
    /// that callee's (a (channel, address) registered again may have moved to another identity or account). Written
    /// once as an expression: EF Core translates it for the stores' queries (<see cref="ServingCalleeAt"/>), and
    /// <see cref="ServesCalleeAt"/> runs it compiled. The PostgreSQL lookup states it in SQL, held to it by the store
    /// contract tests.
    /// </summary>
    private static readonly Expression<Func<Binding, AccountSid, ClientIdentity, DateTimeOffset, bool>> ServesCalleeRule =
        (b, accountSid, identity, now) => b.Status == BindingStatus.Active && b.ExpiresAt > now && b.AccountSid == accountSid && b.Identity == identity;

    private static readonly Func<Binding, AccountSid, ClientIdentity, DateTimeOffset, bool> ServesCalleeCompiled = ServesCalleeRule.Compile();

    /// <summary>Whether the binding is (account, identity)'s own: the rule a client's own endpoints check.</summary>
    public bool BelongsTo(AccountSid accountSid, ClientIdentity identity) => AccountSid == accountSid && Identity == identity;

    public bool IsUsableAt(DateTimeOffset now) => ServesCalleeAt(AccountSid, Identity, now);

    /// <summary>Whether a call for (<paramref name="accountSid"/>, <paramref name="identity"/>) may be pushed to this binding at <paramref name="now"/>.</summary>
    public bool ServesCalleeAt(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now) => ServesCalleeCompiled(this, accountSid, identity, now);

    /// <summary>The bindings a call for (<paramref name="accountSid"/>, <paramref name="identity"/>) is pushed to at <paramref name="now"/>, as a query's filter.</summary>
    public static Expression<Func<Binding, bool>> ServingCalleeAt(AccountSid accountSid, ClientIdentity identity, DateTimeOffset now)
    {
        var binding = ServesCalleeRule.Parameters[0];
        var body = new Bind(new Dictionary<ParameterExpression, Expression>
        {
            [ServesCalleeRule.Parameters[1]] = Captured(accountSid),
            [ServesCalleeRule.Parameters[2]] = Captured(identity),
            [ServesCalleeRule.Parameters[3]] = Captured(now),
        }).Visit(ServesCalleeRule.Body);
        return Expression.Lambda<Func<Binding, bool>>(body, binding);
    }

    // A value as a query parameter (a closure's field), not a constant baked into the query's text.
    private static MemberExpression Captured<T>(T value) =>
        Expression.Field(Expression.Constant(new StrongBox<T>(value)), nameof(StrongBox<T>.Value));

    /// <summary>Replaces the rule's parameters with the values of one query.</summary>
    private sealed class Bind(Dictionary<ParameterExpression, Expression> values) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) =>
            values.TryGetValue(node, out var value) ? value : node;
    }

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
            Address = address,
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

        AccountSid = accountSid;
        Identity = identity;
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
