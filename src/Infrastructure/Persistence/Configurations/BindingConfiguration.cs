using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CallNotify.Infrastructure.Persistence.Configurations;

internal sealed class BindingConfiguration : IEntityTypeConfiguration<Binding>
{
    /// <summary>
    /// SHA-256 of the address, hex. Addresses may be 4096 characters, too long for a PostgreSQL b-tree entry, so the
    /// uniqueness of (channel, address) is enforced on the hash.
    /// </summary>
    public const string AddressHash = "AddressHash";

    public void Configure(EntityTypeBuilder<Binding> builder)
    {
        builder.ToTable("bindings");
        builder.HasKey(b => b.Id);
        builder.Property(b => b.Id).HasMaxLength(34);
        builder.Property(b => b.AccountSid).HasConversion(Converters.AccountSid).HasMaxLength(AccountSid.Length).IsRequired();
        builder.Property(b => b.Identity).HasConversion(Converters.Identity).HasMaxLength(ClientIdentity.MaxLength).IsRequired();
        builder.Property(b => b.Channel).HasConversion(Converters.Channel).HasMaxLength(16);
        builder.Property(b => b.Address).HasConversion(Converters.Address).HasMaxLength(PushAddress.MaxLength).IsRequired();
        builder.Property<string>(AddressHash).HasMaxLength(64).IsRequired();
        builder.Property(b => b.Environment).HasConversion(Converters.Environment).HasMaxLength(16);
        builder.Property(b => b.AppId).HasMaxLength(Binding.MaxAppIdLength);
        builder.Property(b => b.Status).HasConversion(Converters.BindingStatus).HasMaxLength(16);
        builder.Property(b => b.InactiveReason).HasMaxLength(64);

        builder.HasIndex(nameof(Binding.Channel), AddressHash).IsUnique();

        // The webhook's lookup: every active binding of (account, identity).
        builder.HasIndex(b => new { b.AccountSid, b.Identity, b.Status });
    }
}
