namespace CallNotify.Application.Common.Exceptions;

/// <summary>The store cannot be reached or answered with a transient failure; the caller may try again later.</summary>
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
