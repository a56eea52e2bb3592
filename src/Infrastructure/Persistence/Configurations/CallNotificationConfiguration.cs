using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CallNotify.Infrastructure.Persistence.Configurations;

internal sealed class CallNotificationConfiguration : IEntityTypeConfiguration<CallNotification>
{
    public void Configure(EntityTypeBuilder<CallNotification> builder)
    {
        builder.ToTable("call_notifications");
        builder.HasKey(n => n.Id);
        builder.Property(n => n.Id).HasMaxLength(34);
        builder.Property(n => n.AccountSid).HasConversion(Converters.AccountSid).HasMaxLength(AccountSid.Length).IsRequired();
        builder.Property(n => n.TwiMessageId).HasMaxLength(CallNotification.MaxFieldLength).IsRequired();
        builder.Property(n => n.CallSid).HasMaxLength(CallNotification.MaxFieldLength).IsRequired();
        builder.Property(n => n.From).HasMaxLength(CallNotification.MaxFieldLength);
        builder.Property(n => n.To).HasMaxLength(ClientIdentity.ClientPrefix.Length + ClientIdentity.MaxLength).IsRequired();
        builder.Property(n => n.Identity).HasConversion(Converters.Identity).HasMaxLength(ClientIdentity.MaxLength).IsRequired();
        builder.Property(n => n.MessageType).HasMaxLength(CallNotification.MaxFieldLength).IsRequired();

        // The exact bytes Twilio sent (bytea / BLOB): jsonb would reformat them.
        builder.Property(n => n.RawBody).IsRequired();

        // Decided by the deliveries' folded states (ADR 0021).
        builder.Ignore(n => n.Outcome);

        builder.HasMany(n => n.Deliveries)
            .WithOne()
            .HasForeignKey(d => d.NotificationId)
            .OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(n => n.Deliveries).HasField("_deliveries").UsePropertyAccessMode(PropertyAccessMode.Field);

        // Twilio retries: one record per (account, twi_message_id).
        builder.HasIndex(n => new { n.AccountSid, n.TwiMessageId }).IsUnique();
        builder.HasIndex(n => new { n.AccountSid, n.Identity });
        builder.HasIndex(n => n.ReceivedAt);
    }
}
