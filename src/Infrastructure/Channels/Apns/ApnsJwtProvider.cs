using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure.Channels.Apns;

/// <summary>One APNs provider token (ES256 JWT) and the instant in its <c>iat</c> claim.</summary>
internal sealed class ApnsJwt(string value, DateTimeOffset issuedAt)
{
    public string Value { get; } = value;

    public DateTimeOffset IssuedAt { get; } = issuedAt;

    /// <summary>Never the token itself: it is a credential.</summary>
    public override string ToString() => $"APNs provider token issued {IssuedAt:O}";
}

/// <summary>
/// Issues the APNs provider token and reuses it for <see cref="ApnsOptions.TokenLifetimeMinutes"/> (20–50 minutes):
/// Apple answers 429 <c>TooManyProviderTokenUpdates</c> to a token renewed more often than every 20 minutes and 403
/// <c>ExpiredProviderToken</c> to one older than an hour.
/// <para>
/// The one exception to the schedule is <see cref="Renew"/>: when APNs rejects the current token as expired, a new one
/// is issued at once, because Apple is the judge of expiry and the old token is useless. Such forced renewals are
/// rationed to one per 20 minutes, so a clock or key problem that makes every token look expired cannot turn into a
/// renewal per request; inside that window a further rejection is a credential error.
/// </para>
/// </summary>
internal sealed class ApnsJwtProvider : IDisposable
{
    internal static readonly TimeSpan ForcedRenewalFloor = TimeSpan.FromMinutes(ApnsOptions.MinTokenLifetimeMinutes);

    private readonly Lock _gate = new();
    private readonly ECDsa _key;
    private readonly string _teamId;
    private readonly string _keyId;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;
    private readonly ILogger<ApnsJwtProvider> _logger;
    private ApnsJwt? _current;
    private DateTimeOffset? _lastForcedRenewal;

    public ApnsJwtProvider(IOptions<ApnsOptions> options, TimeProvider time, ILogger<ApnsJwtProvider> logger)
    {
        var o = options.Value;
        _teamId = o.TeamId ?? throw new InvalidOperationException($"{ApnsOptions.Section}:TeamId is not set.");
        _keyId = o.KeyId ?? throw new InvalidOperationException($"{ApnsOptions.Section}:KeyId is not set.");
        _key = ApnsSigningKey.Load(o.PrivateKeyFile ?? throw new InvalidOperationException($"{ApnsOptions.Section}:PrivateKeyFile is not set."));
        _lifetime = TimeSpan.FromMinutes(o.TokenLifetimeMinutes);
        _time = time;
        _logger = logger;
    }

    /// <summary>The token to send now: the current one while it is younger than its lifetime, else a new one.</summary>
    public ApnsJwt Current
    {
        get
        {
            var current = Volatile.Read(ref _current);
            if (current is not null && IsFresh(current, _time.GetUtcNow()))
            {
                return current;
            }

            lock (_gate)
            {
                var now = _time.GetUtcNow();
                if (_current is null || !IsFresh(_current, now))
                {
                    Volatile.Write(ref _current, Issue(now));
                    _logger.LogDebug("Issued an APNs provider token for key {KeyId}", _keyId);
                }

                return _current!;
            }
        }
    }

    /// <summary>
    /// APNs answered <c>ExpiredProviderToken</c> to <paramref name="rejected"/>. Returns the token to retry with: the
    /// current one when another request already replaced <paramref name="rejected"/>, a new one when a forced renewal is
    /// allowed, or <see langword="null"/> when the last forced renewal was less than 20 minutes ago (then the problem is
    /// not the token's age, and renewing again would only earn <c>TooManyProviderTokenUpdates</c>).
    /// </summary>
    public ApnsJwt? Renew(ApnsJwt rejected)
    {
        lock (_gate)
        {
            if (_current is not null && !ReferenceEquals(_current, rejected))
            {
                return _current;
            }

            var now = _time.GetUtcNow();
            if (_lastForcedRenewal is { } last && now - last < ForcedRenewalFloor)
            {
                return null;
            }

            _lastForcedRenewal = now;
            Volatile.Write(ref _current, Issue(now));
            _logger.LogWarning(
                "APNs rejected the provider token issued at {IssuedAt:O} as expired; issued a new one for key {KeyId}",
                rejected.IssuedAt, _keyId);
            return _current;
        }
    }

    private bool IsFresh(ApnsJwt token, DateTimeOffset now) => now - token.IssuedAt < _lifetime;

    private ApnsJwt Issue(DateTimeOffset now)
    {
        var iat = now.ToUnixTimeSeconds();
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("alg", "ES256");
            json.WriteString("kid", _keyId);
            json.WriteEndObject();
        }

        var header = Base64Url.EncodeToString(buffer.WrittenSpan);
        buffer.ResetWrittenCount();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("iss", _teamId);
            json.WriteNumber("iat", iat);
            json.WriteEndObject();
        }

        var signingInput = header + "." + Base64Url.EncodeToString(buffer.WrittenSpan);

        // JWS ES256 wants the raw r||s pair (64 bytes), not the DER sequence .NET produces by default.
        var signature = _key.SignData(
            Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new ApnsJwt(signingInput + "." + Base64Url.EncodeToString(signature), DateTimeOffset.FromUnixTimeSeconds(iat));
    }

    public void Dispose() => _key.Dispose();
}
