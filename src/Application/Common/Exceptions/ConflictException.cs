namespace CallNotify.Application.Common.Exceptions;

/// <summary>A write lost to a concurrent one on a uniqueness rule the store enforces.</summary>
public sealed class ConflictException : Exception
{
    public ConflictException()
    {
    }

    public ConflictException(string message)
        : base(message)
    {
    }

    public ConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
