"""Cases and the closed loop: received → registered → dispatched → in progress → handled → verified → closed
→ followed up, with deadlines, extension, suspension, joint handling, escalation and reopening."""
