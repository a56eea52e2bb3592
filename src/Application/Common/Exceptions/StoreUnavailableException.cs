namespace CallNotify.Application.Common.Exceptions;

/// <summary>The store refused work at once rather than queue it (its queue is full): answered 503, like a store that is down.</summary>
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException()
    {
    }

    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    public StoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
