namespace CallNotify.Domain.Common;

/// <summary>A rule of the domain was broken: the input cannot form a valid entity or value.</summary>
public sealed class DomainException : Exception
{
    public DomainException(string field, string message)
        : base(message)
    {
        Field = field;
    }

    public DomainException()
    {
        Field = string.Empty;
    }

    public DomainException(string message)
        : base(message)
    {
        Field = string.Empty;
    }

    public DomainException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = string.Empty;
    }

    /// <summary>The field (camelCase, as the API names it) whose value broke the rule.</summary>
    public string Field { get; }
}
