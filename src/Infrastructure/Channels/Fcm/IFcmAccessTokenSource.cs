namespace CallNotify.Infrastructure.Channels.Fcm;

/// <summary>OAuth2 access tokens for the FCM HTTP v1 API, for one Firebase project.</summary>
public interface IFcmAccessTokenSource
{
    /// <summary>The Firebase project the tokens are for (the key file's <c>project_id</c>).</summary>
    string ProjectId { get; }

    /// <summary>
    /// A token valid for at least a few more minutes. Cached: one exchange serves many sends, and a new one is
    /// fetched before the old one expires.
    /// </summary>
    /// <exception cref="FcmCredentialException">No token could be had.</exception>
    Task<string> GetAccessTokenAsync(CancellationToken cancellationToken);
}

/// <summary>No access token could be had.</summary>
public sealed class FcmCredentialException : Exception
{
    public FcmCredentialException()
    {
    }

    public FcmCredentialException(string message)
        : base(message)
    {
    }

    public FcmCredentialException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public FcmCredentialException(string message, bool isTransient, Exception? innerException)
        : base(message, innerException) =>
        IsTransient = isTransient;

    /// <summary>
    /// The token endpoint could not be reached or answered 5xx/429: worth another try. Otherwise it refused the
    /// credential (bad key, deleted service account, wrong clock), which needs an operator.
    /// </summary>
    public bool IsTransient { get; }
}
