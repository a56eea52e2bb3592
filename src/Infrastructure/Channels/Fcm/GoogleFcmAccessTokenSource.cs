using System.Net;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Apis.Http;
using Google.Apis.Util;
using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure.Channels.Fcm;

/// <summary>
/// Access tokens from Google.Apis.Auth's <see cref="ServiceAccountCredential"/>: a JWT signed with the key file's
/// private key is exchanged at the file's <c>token_uri</c>; the library caches the token (about an hour) and fetches
/// the next one a few minutes before expiry, one exchange at a time however many sends ask.
/// </summary>
internal sealed class GoogleFcmAccessTokenSource : IFcmAccessTokenSource
{
    public const string Scope = "https://www.googleapis.com/auth/firebase.messaging";

    private readonly ServiceAccountCredential? _credential;
    private readonly string? _problem;

    public GoogleFcmAccessTokenSource(IOptions<FcmOptions> options, TimeProvider time)
    {
        var path = options.Value.CredentialsFile;
        if (string.IsNullOrWhiteSpace(path) || !FcmServiceAccount.TryLoad(path, out var account, out var problem))
        {
            // The options validator stops the service at start for this; reaching it means the file changed since.
            // Every send then fails with a credential error instead of the whole dispatcher failing to start.
            ProjectId = string.Empty;
            _problem = $"{FcmOptions.Section}:{nameof(FcmOptions.CredentialsFile)} '{path}' is not usable.";
            return;
        }

        ProjectId = account.ProjectId;

        // Built from the parsed file rather than GoogleCredential.FromFile: the token endpoint is explicitly the file's
        // token_uri, time comes from the injected TimeProvider, and the library does not retry 503s by itself
        // (one attempt per send; the dispatcher owns retries).
        var initializer = account.CreateInitializer();
        initializer.Scopes = [Scope];
        initializer.Clock = new TimeProviderClock(time);
        initializer.DefaultExponentialBackOffPolicy = ExponentialBackOffPolicy.None;
        _credential = new ServiceAccountCredential(initializer);
    }

    public string ProjectId { get; }

    public async Task<string> GetAccessTokenAsync(CancellationToken cancellationToken)
    {
        if (_credential is null)
        {
            throw new FcmCredentialException(_problem ?? "No FCM credential.", isTransient: false, innerException: null);
        }

        try
        {
            return await _credential.GetAccessTokenForRequestAsync(authUri: null, cancellationToken);
        }
        catch (TokenResponseException ex)
        {
            var status = ex.StatusCode;
            var transient = status is null || (int)status >= 500 || status == HttpStatusCode.TooManyRequests;
            throw new FcmCredentialException(
                $"The token endpoint refused the service account: {(int?)status} {ex.Error?.Error} {ex.Error?.ErrorDescription}".TrimEnd(),
                transient,
                ex);
        }
        catch (HttpRequestException ex)
        {
            throw new FcmCredentialException($"The token endpoint could not be reached: {ex.Message}", isTransient: true, ex);
        }
        catch (InvalidOperationException ex)
        {
            // The library's own refresh timeouts ran out ("could not be refreshed").
            throw new FcmCredentialException($"No access token: {ex.Message}", isTransient: true, ex);
        }
    }

    private sealed class TimeProviderClock(TimeProvider time) : IClock
    {
        public DateTime Now => time.GetLocalNow().DateTime;

        public DateTime UtcNow => time.GetUtcNow().UtcDateTime;
    }
}
