package service

import (
	"slices"
	"strings"
)

// Subscription states.
const (
	// SubTrialing: in a free trial; nothing is billed until it ends.
	SubTrialing = "trialing"
	// SubActive: billed in advance at the start of every period.
	SubActive = "active"
	// SubPendingCancel: still served (and billed, until its cancel_at) but
	// scheduled to end.
	SubPendingCancel = "pending_cancel"
	// SubCancelled: ended; final.
	SubCancelled = "cancelled"
)

// SubscriptionStates lists every state of a subscription.
var SubscriptionStates = []string{SubTrialing, SubActive, SubPendingCancel, SubCancelled}

// SubEvent is something that happens to a subscription: an API operation or
// the billing run reaching a date.
type SubEvent string

// Subscription events.
const (
	EvExtendTrial SubEvent = "extend_trial"    // billing.subscriptions.extend_trial: convert a trial now
	EvTrialEnd    SubEvent = "trial_end"       // the run reaches trial_ends_at
	EvRenew       SubEvent = "renew"           // the run reaches the end of a period
	EvSeats       SubEvent = "change_seats"    // add_seats, remove_seats
	EvChange      SubEvent = "change_plan"     // change_plan, change_price (instantly or next cycle)
	EvCancelLater SubEvent = "schedule_cancel" // cancel when=end-of-run or specific-date
	EvCancelNow   SubEvent = "cancel"          // cancel when=instantly
	EvCancelDue   SubEvent = "cancel_due"      // the run reaches cancel_at
)

// SubTransition is one allowed transition of the subscription state machine.
type SubTransition struct {
	From  string
	Event SubEvent
	To    string
}

// SubscriptionMachine is the subscription state machine, written down in this
// one place: every (state, event) pair not listed is refused with
// unprocessable (reason invalid_state) naming the state.
//
//	from            event             to
//	trialing        extend_trial      active
//	trialing        trial_end         active
//	pending_cancel  trial_end         pending_cancel  (cancel date after the trial)
//	active          renew             active
//	pending_cancel  renew             pending_cancel  (cancel date after this period)
//	trialing        change_seats      trialing
//	active          change_seats      active
//	trialing        change_plan       trialing
//	active          change_plan       active
//	trialing        schedule_cancel   pending_cancel
//	active          schedule_cancel   pending_cancel
//	trialing        cancel            cancelled
//	active          cancel            cancelled
//	pending_cancel  cancel            cancelled
//	pending_cancel  cancel_due        cancelled
var SubscriptionMachine = []SubTransition{
	{SubTrialing, EvExtendTrial, SubActive},
	{SubTrialing, EvTrialEnd, SubActive},
	{SubPendingCancel, EvTrialEnd, SubPendingCancel},
	{SubActive, EvRenew, SubActive},
	{SubPendingCancel, EvRenew, SubPendingCancel},
	{SubTrialing, EvSeats, SubTrialing},
	{SubActive, EvSeats, SubActive},
	{SubTrialing, EvChange, SubTrialing},
	{SubActive, EvChange, SubActive},
	{SubTrialing, EvCancelLater, SubPendingCancel},
	{SubActive, EvCancelLater, SubPendingCancel},
	{SubTrialing, EvCancelNow, SubCancelled},
	{SubActive, EvCancelNow, SubCancelled},
	{SubPendingCancel, EvCancelNow, SubCancelled},
	{SubPendingCancel, EvCancelDue, SubCancelled},
}

// transition applies ev to sub's status: the new status, or unprocessable
// (reason invalid_state) naming the current state and the states ev is
// allowed from.
func (sub *Subscription) transition(ev SubEvent) error {
	var from []string
	for _, t := range SubscriptionMachine {
		if t.Event != ev {
			continue
		}
		if t.From == sub.Status {
			sub.Status = t.To
			return nil
		}
		from = append(from, t.From)
	}
	return Unprocessable("invalid_state", "subscription %d is %s: %s is allowed only when %s",
		sub.ID, sub.Status, ev, strings.Join(from, " or "))
}

// Invoice statuses.
const (
	InvoiceDraft     = "draft"
	InvoiceFinalized = "finalized"
	InvoicePaid      = "paid"
	InvoiceVoid      = "void"
)

// invoiceMachine is the invoice state machine: draft → finalized → paid |
// void (a draft may also be deleted). Finalized invoices never change but
// for this status.
var invoiceMachine = map[string][]string{
	InvoiceDraft:     {InvoiceFinalized},
	InvoiceFinalized: {InvoicePaid, InvoiceVoid},
}

// transition moves inv to status to, or refuses it with unprocessable
// (reason invalid_state) naming the invoice's status.
func (inv *Invoice) transition(to string) error {
	if !slices.Contains(invoiceMachine[inv.Status], to) {
		return Unprocessable("invalid_state", "invoice %d is %s: it cannot become %s", inv.ID, inv.Status, to)
	}
	inv.Status = to
	return nil
}
