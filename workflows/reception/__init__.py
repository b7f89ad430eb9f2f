"""Leaders' reception days (领导接访日) and video reception (视频接访): slots, bookings, reminders."""
